"""The vendor and model pages' "Live routes" section (registered in RoutingConfig.ready)."""

from __future__ import annotations

from registry.permissions import is_governance
from routing.auth import may_see
from routing.impact import REINSTATE, SUSPEND, route_changes

ROWS = 200


def visible_changes(user, entry, kind: str) -> list:
    """The routes through ``entry`` as they would change if its suspension flipped, for what ``user`` sees;
    changed routes first."""
    status = (REINSTATE if entry.status == "suspended" else SUSPEND)[kind]
    changes = route_changes(**{kind: entry}, status=status)
    visible = [change for change in changes
               if may_see(user, feature_id=change.facts.feature_id, restricted=change.facts.restricted)]
    return sorted(visible, key=lambda change: (not change.changed, change.facts.feature_name, change.facts.region))


def catalog_routes_panel(request, kind: str, entry) -> dict | None:
    if kind not in SUSPEND:  # prompts, policy packs and datasets cannot be suspended
        return None
    changes = visible_changes(request.user, entry, kind)
    suspended = entry.status == "suspended"
    return {
        "title": "Live routes",
        "template": "routing/partials/catalog_routes.html",
        "context": {
            "kind": kind, "entry": entry, "suspended": suspended, "changes": changes[:ROWS],
            "total": len(changes), "changed": sum(change.changed for change in changes),
            "can_change": is_governance(request.user),
        },
    }
