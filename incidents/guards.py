"""What incidents contribute to registry pages and rules (registered in IncidentsConfig.ready)."""

from core.error_codes import PROMOTION_FROZEN, Reason
from incidents.choices import ACTIVE_STATUSES, FREEZING_SEVERITIES, FREEZING_STATUSES
from incidents.models import Incident


def incident_freeze(feature, **promotion) -> str | None:
    """An open or investigating SEV1/SEV2 freezes new promotions of its feature."""
    return incident_freezes([feature.pk]).get(feature.pk)


def incident_freezes(feature_ids) -> dict[int, str]:
    """Why each of these features is frozen (the oldest freezing incident), in one query (each reason
    carries the API code ``promotion_frozen``)."""
    reasons: dict[int, str] = {}
    for incident in Incident.objects.filter(
        feature_id__in=list(feature_ids), severity__in=FREEZING_SEVERITIES, status__in=FREEZING_STATUSES
    ).order_by("impact_start", "id"):
        reasons.setdefault(
            incident.feature_id,
            Reason(
                f"{incident.reference} ({incident.get_severity_display()}, {incident.status}) is open: "
                f"{incident.title}.",
                PROMOTION_FROZEN,
            ),
        )
    return reasons


def incident_panel(request, feature, version=None) -> dict:
    incidents = Incident.objects.filter(feature=feature).select_related("live_version", "region", "owner")
    if version is not None:
        incidents = incidents.filter(live_version=version)
    rows = list(incidents.order_by("-impact_start", "-id")[:20])
    mitigate, resolve = [], []
    for impact_start, mitigated_at, resolved_at in Incident.objects.filter(feature=feature).values_list(
        "impact_start", "mitigated_at", "resolved_at"
    ):
        if mitigated_at:
            mitigate.append((mitigated_at - impact_start).total_seconds())
        if resolved_at:
            resolve.append((resolved_at - impact_start).total_seconds())
    return {
        "title": "Incidents" + (f" while v{version.number} was live" if version else ""),
        "template": "incidents/partials/feature_panel.html",
        "context": {
            "incidents": rows,
            "active": [incident for incident in rows if incident.status in ACTIVE_STATUSES],
            "mean_minutes_to_mitigate": round(sum(mitigate) / len(mitigate) / 60) if mitigate else None,
            "mean_minutes_to_resolve": round(sum(resolve) / len(resolve) / 60) if resolve else None,
            "feature": feature,
            "version": version,
        },
    }
