"""Where the audit trail links people and teams (``registry.extensions.audit_object_links``)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from identity.permissions import can_read_people, can_read_teams
from registry.audit_links import int_ids
from registry.models import Team


def people(ids, user) -> dict[str, str]:
    """The person pages, for those who may read them (governance admins and auditors)."""
    if not can_read_people(user):
        return {}
    rows = get_user_model().objects.filter(pk__in=int_ids(ids)).values_list("pk", "username")
    return {str(pk): reverse("identity:person_detail", args=[username]) for pk, username in rows}


def teams(ids, user) -> dict[str, str]:
    if not can_read_teams(user):
        return {}
    rows = Team.objects.filter(pk__in=int_ids(ids)).values_list("pk", "slug")
    return {str(pk): reverse("identity:team_detail", args=[slug]) for pk, slug in rows}
