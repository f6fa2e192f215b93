"""FilterSets of the People and Teams pages and their API lists."""

import django_filters
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.filters import SearchFilterSet
from registry.choices import MembershipSource, Role
from registry.filters import team_filter
from registry.models import Membership, Team

STATUS_CHOICES = [("active", "Active"), ("deactivated", "Deactivated")]


class PersonFilter(SearchFilterSet):
    search_fields = ("username", "first_name", "last_name", "email")
    role = django_filters.ChoiceFilter(
        label="Role", choices=Role.choices, method="filter_role", empty_label="All roles"
    )
    team = extend_schema_field(OpenApiTypes.STR)(  # the team's slug
        team_filter(label="Team", method="filter_team")
    )
    source = django_filters.ChoiceFilter(
        label="Source",
        choices=MembershipSource.choices,
        method="filter_source",
        empty_label="Any source",
        help_text="People who hold at least one role or team through this source.",
    )
    status = django_filters.ChoiceFilter(
        label="Status", choices=STATUS_CHOICES, method="filter_status", empty_label="Any status"
    )

    class Meta:
        model = get_user_model()
        fields = ["q", "role", "team", "source", "status"]

    def filter_role(self, queryset, name, value):
        return queryset.filter(groups__name=value) if value else queryset

    def filter_team(self, queryset, name, value):
        return queryset.filter(groups=value.group_id) if value else queryset

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(is_active=value == "active")

    def filter_source(self, queryset, name, value):
        if not value:
            return queryset
        held = Q(pk__in=Membership.objects.filter(source=value).values("user"))
        if value == MembershipSource.MANUAL:
            # A role or team membership made before sources were recorded counts as granted in Gatehouse.
            through = get_user_model().groups.through
            unrecorded = (
                through.objects.filter(user=OuterRef("pk"))
                .filter(group__in=Group.objects.filter(Q(name__in=Role.values) | Q(team__isnull=False)))
                .exclude(Exists(Membership.objects.filter(user=OuterRef("user_id"), group=OuterRef("group_id"))))
            )
            held |= Q(Exists(unrecorded))
        return queryset.filter(held)


class TeamFilter(SearchFilterSet):
    search_fields = ("name", "slug", "description")

    class Meta:
        model = Team
        fields = ["q"]
