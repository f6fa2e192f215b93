from django.db.models import QuerySet

from incidents.models import Incident, IncidentEvent
from registry.selectors import features_visible_to


def incidents_visible_to(user) -> QuerySet[Incident]:
    return (
        Incident.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature", "feature__team", "region", "owner", "live_version")
        .order_by("-impact_start", "-id")
    )


def incident_detail(*, user, pk: int) -> Incident:
    return incidents_visible_to(user).select_related(
        "reporter", "live_event", "live_event__actor", "live_version__model", "live_version__model__vendor",
        "live_version__prompt", "live_version__policy_pack", "feature__incident_owner", "feature__accountable_owner",
    ).get(pk=pk)


def incident_timeline(*, incident: Incident) -> QuerySet[IncidentEvent]:
    return incident.events.select_related("actor", "deployment_event", "deployment_event__to_version").order_by("at", "id")
