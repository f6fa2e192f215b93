"""Incidents' sections of the dashboard (registered in ``IncidentsConfig.ready``): the open incidents,
for support and governance, and their count by severity in the organisation's posture."""

from __future__ import annotations

from django.db.models import Count
from django.urls import reverse

from core.memo import once_per_request
from incidents.choices import ACTIVE_STATUSES, Severity
from incidents.selectors import incidents_visible_to
from registry.choices import Role
from registry.permissions import has_role, sees_everything

ROWS = 8


def _active(user):
    return incidents_visible_to(user).filter(status__in=ACTIVE_STATUSES)


def _counts(request) -> dict[str, int]:
    """Active incidents the request's user may see, by severity: once per request (the panel and the
    posture show them)."""
    return once_per_request(
        request,
        "incidents.active_by_severity",
        lambda: dict(_active(request.user).values_list("severity").annotate(total=Count("pk")).order_by()),
    )


def open_incidents_panel(request) -> dict | None:
    user = request.user
    if not user.is_authenticated or not (has_role(user, Role.SUPPORT) or sees_everything(user)):
        return None
    active = _active(user)
    counts = _counts(request)
    list_url = reverse("incidents:incident_list")
    return {
        "template": "incidents/partials/home_incidents.html",
        "position": 15,
        "context": {
            "incidents": list(active.order_by("severity", "-impact_start", "-id")[:ROWS]),
            "total": sum(counts.values()),
            "by_severity": [
                (severity.label, counts.get(severity.value, 0), f"{list_url}?severity={severity.value}")
                for severity in Severity
            ],
            "list_url": list_url,
        },
    }


def posture(request) -> list[dict]:
    if not sees_everything(request.user):
        return []
    counts = _counts(request)
    serious = counts.get(Severity.SEV1, 0) + counts.get(Severity.SEV2, 0)
    total = sum(counts.values())
    url = reverse("incidents:incident_list")
    return [
        {"label": "open incidents", "value": total, "href": url, "tone": "warn" if total else "ok", "position": 10},
        {
            "label": "of them SEV1 or SEV2",
            "value": serious,
            "href": f"{url}?ordering=severity",
            "tone": "bad" if serious else "ok",
            "position": 11,
        },
    ]


def serious_clocks_panel(request) -> dict | None:
    """Serious incidents whose report is due (EU AI Act Art. 73), soonest first: for everyone who sees them
    and works incidents or oversees (support, governance, auditors, the features' teams)."""
    user = request.user
    if not user.is_authenticated:
        return None
    serious = [
        incident
        for incident in incidents_visible_to(user)
        .exclude(serious_criteria=[])
        .exclude(aware_at__isnull=True)
        .filter(report_completed_at__isnull=True)  # the complete report stops the clock
        .select_related("feature")
        .order_by("aware_at")[:50]
    ]
    if not serious:
        return None
    serious.sort(key=lambda incident: incident.report_due_at)
    return {
        "template": "incidents/partials/home_serious.html",
        "position": 4,
        "context": {"incidents": serious[:ROWS]},
    }
