"""The "Impact" section of the five catalog pages (registered in DrillsConfig.ready)."""

from __future__ import annotations

from drills.choices import IMPACT_KINDS
from drills.impact import impact_of

ROWS = 200


def catalog_impact_panel(request, kind: str, entry) -> dict | None:
    if kind not in IMPACT_KINDS:
        return None
    impact = impact_of(user=request.user, kind=kind, entry=entry)
    return {
        "title": "Impact",
        "template": "drills/partials/impact_panel.html",
        "context": {
            "impact": impact, "versions": impact.versions[:ROWS], "deployments": impact.deployments[:ROWS],
            "features": impact.features[:ROWS], "api_kind": IMPACT_KINDS[kind],
            "api_key": entry.slug if kind == "vendor" else entry.pk,
        },
    }
