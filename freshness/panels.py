"""Freshness's figures in the organisation's posture and its section of governance's dashboard (registered
in ``FreshnessConfig.ready``): stale, failing and missing evidence, and how much of it blocks promotions."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from core.memo import once_per_request
from freshness.choices import FindingState
from freshness.models import blocking_condition
from freshness.selectors import findings_visible_to
from registry.permissions import sees_everything


def _counts(request) -> dict:
    """The open findings the request's user may see, by state, and those blocking: once per request (the
    panel and the posture show them)."""

    def count():
        open_findings = findings_visible_to(request.user).filter(closed_at__isnull=True).order_by()
        return open_findings.aggregate(
            **{state: Count("pk", filter=Q(state=state)) for state in FindingState.values},
            blocking=Count("pk", filter=blocking_condition(timezone.now())),
        )

    return once_per_request(request, "freshness.counts", count)


def evidence_panel(request) -> dict | None:
    user = request.user
    if not (user.is_authenticated and sees_everything(user)):
        return None
    counts = _counts(request)
    url = reverse("freshness:dashboard")
    return {
        "template": "freshness/partials/home_evidence.html",
        "position": 30,
        "context": {
            "states": [(state.label, counts[state.value], f"{url}?state={state.value}") for state in FindingState],
            "blocking": counts["blocking"],
            "blocking_url": f"{url}?blocking=true",
            "url": url,
        },
    }


def posture(request) -> list[dict]:
    if not sees_everything(request.user):
        return []
    counts = _counts(request)
    stale_or_failing = counts[FindingState.STALE] + counts[FindingState.FAILING] + counts[FindingState.MISSING]
    url = reverse("freshness:dashboard")
    return [
        {
            "label": "stale, failing or missing evidence",
            "value": stale_or_failing,
            "href": url,
            "tone": "bad" if counts["blocking"] else ("warn" if stale_or_failing else "ok"),
            "position": 30,
        }
    ]
