"""The FilterSet the gate request list page and the API's request list share: same parameters, same
answers (an unknown status or environment is an error on both, not "everything")."""

import django_filters

from approvals.choices import RequestStatus
from approvals.models import ApprovalRequest
from registry.choices import Environment


class ApprovalRequestFilter(django_filters.FilterSet):
    feature = django_filters.CharFilter(field_name="version__feature__slug", label="Feature (slug)")
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, empty_label="All statuses")
    environment = django_filters.ChoiceFilter(choices=Environment.choices, empty_label="All environments")

    class Meta:
        model = ApprovalRequest
        fields = ["feature", "status", "environment"]
