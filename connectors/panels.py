"""The dashboard's drift panel (``registry.extensions.home_panels``): models moved outside Gatehouse."""

from __future__ import annotations

from connectors.selectors import drift_for_owner, open_drift_visible_to
from registry.permissions import sees_everything


def drift_panel(request) -> dict | None:
    user = request.user
    if not user.is_authenticated:
        return None
    findings = open_drift_visible_to(user) if sees_everything(user) else drift_for_owner(user)
    findings = list(findings[:10])
    if not findings:
        return None
    return {"template": "connectors/partials/home_drift.html", "position": 5, "context": {"findings": findings}}
