"""The FilterSet the gate request list page and the API's request list share: same parameters, same
answers (an unknown status or environment is an error on both, not "everything")."""

import django_filters

from approvals.choices import Gate, RequestStatus
from approvals.models import ApprovalRequest, SignOff
from core.filters import Column, SortFilter, rank
from registry.choices import RISK_TIER_ORDER, Environment


class ApprovalRequestFilter(django_filters.FilterSet):
    feature = django_filters.CharFilter(field_name="version__feature__slug", label="Feature (slug)")
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, empty_label="All statuses")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="All environments")
    ordering = SortFilter(
        Column("number", "#", "pk", descending_first=True),
        Column("feature", "Feature", "version__feature__name"),
        Column("environment", "Environment", rank("environment", Environment.values)),
        Column("gate", "Gate", rank("gate", Gate.values)),
        Column("status", "Status"),
        Column("created", "Requested", "created_at", descending_first=True),
        default="-created",
    )

    class Meta:
        model = ApprovalRequest
        fields = ["feature", "status", "environment"]


class QueueFilter(django_filters.FilterSet):
    """The sign-off queue's order, shared by the page and the API: oldest first unless asked otherwise."""

    ordering = SortFilter(
        Column("waiting", "Waiting", "created_at"),
        Column("feature", "Feature", "request__version__feature__name"),
        Column(
            "risk_tier",
            "Risk tier",
            rank("request__version__feature__risk_tier", RISK_TIER_ORDER),
            descending_first=True,
        ),
        Column("gate", "Gate", rank("request__gate", Gate.values)),
        Column("role", "Role"),
        default="waiting",
    )

    class Meta:
        model = SignOff
        fields: list[str] = []
