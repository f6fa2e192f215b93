"""Readiness's sections of the dashboard (registered in ``ReadinessConfig.ready``): an owner's features
with what blocks each, governance's readiness by risk tier, and the share of ready features in the
organisation's posture. All from the shared cache of what each feature misses (``readiness.current``); the
tier table and the ready count from the gap table kept there for those who see every feature
(``readiness.selectors.visible_gaps``)."""

from __future__ import annotations

from django.urls import reverse

from core.memo import once_per_request
from readiness.choices import ReadinessCheck
from readiness.current import missing_items
from readiness.selectors import visible_gaps
from registry.permissions import sees_everything, user_team_ids
from registry.selectors import features_visible_to

ROWS = 10


def owner_panel(request) -> dict | None:
    """The features of the person's teams, least ready first, each with what it is missing."""
    user = request.user
    team_ids = user_team_ids(user) if user.is_authenticated else set()
    if not team_ids:
        return None
    features = list(
        features_visible_to(user).filter(team__in=team_ids).exclude(status="retired").order_by("name", "pk")[:50]
    )
    missing = missing_items([(feature.pk, feature.slug) for feature in features])
    rows = [
        {
            "feature": feature,
            "missing": [ReadinessCheck(item).label for item in missing[feature.pk]],
            "in_place": len(ReadinessCheck.values) - len(missing[feature.pk]),
            "url": reverse("readiness:feature", args=[feature.slug]),
        }
        for feature in features
    ]
    rows.sort(key=lambda row: (-len(row["missing"]), row["feature"].name))
    return {
        "template": "readiness/partials/home_owner.html",
        "position": 5,
        "context": {
            "rows": rows[:ROWS],
            "ready": sum(not row["missing"] for row in rows),
            "total": len(rows),
            "items": len(ReadinessCheck.values),
            "dashboard_url": reverse("readiness:dashboard"),
        },
    }


def _gaps(request) -> dict:
    """``visible_gaps`` of the request's user, once per request (the tier panel and the posture show it)."""
    return once_per_request(request, "readiness.visible_gaps", lambda: visible_gaps(user=request.user))


def tier_panel(request) -> dict | None:
    user = request.user
    if not (user.is_authenticated and sees_everything(user)):
        return None
    table = _gaps(request)
    url = reverse("readiness:dashboard")
    return {
        "template": "readiness/partials/home_tiers.html",
        "position": 40,
        "context": {
            "tiers": [
                {
                    "label": row["label"],
                    "ready": row["ready"],
                    "features": row["features"],
                    "not_ready": row["features"] - row["ready"],
                    "url": f"{url}?tier={row['key']}&state=not_ready",
                }
                for row in table["by_tier"]
            ],
            "ready": table["ready"],
            "features": table["features"],
            "url": url,
        },
    }


def posture(request) -> list[dict]:
    if not sees_everything(request.user):
        return []
    table = _gaps(request)
    ready, total = table["ready"], table["features"]
    return [
        {
            "label": f"of {total} features ready",
            "value": ready,
            "href": reverse("readiness:dashboard") + "?state=not_ready",
            "tone": "ok" if ready == total else "warn",
            "position": 40,
        }
    ]
