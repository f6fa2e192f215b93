"""Identity's sections on other apps' pages (registered in ``IdentityConfig.ready``)."""

from __future__ import annotations

from identity.selectors import deactivated_people_with_open_work
from registry.permissions import is_governance


def deactivated_panel(request) -> dict | None:
    """Governance's dashboard: deactivated people whose open work still names them."""
    user = request.user
    if not (user.is_authenticated and is_governance(user)):
        return None
    people = deactivated_people_with_open_work(user)
    if not people:
        return None
    return {"template": "identity/partials/deactivated_panel.html", "context": {"people": people}}
