"""The vendor and model pages' "Live routes" section (registered in RoutingConfig.ready).

The section loads its body with htmx (``routing:vendor_routes``, ``routing:model_routes``): the body
decides every live route through the vendor or model twice, as things are and with its suspension
flipped, so computing it on the catalog page would add that to every view of the page. Without
JavaScript the section is a link to the same URL, which then answers as a page of its own.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse

from registry.permissions import is_governance
from routing import selectors
from routing.impact import REINSTATE, SUSPEND, route_changes

ROWS = 200


def catalog_entry(kind: str, key):
    """The vendor (by slug) or model (by id) a routes URL names, or 404."""
    return get_object_or_404(selectors.catalog_entries(kind), **{"slug" if kind == "vendor" else "pk": key})


def catalog_key(kind: str, entry):
    """How routes URLs name ``entry``: a vendor by its slug, a model by its id."""
    return entry.slug if kind == "vendor" else entry.pk


def routes_url(kind: str, entry) -> str:
    return reverse(f"routing:{kind}_routes", args=[catalog_key(kind, entry)])


def visible_changes(user, entry, kind: str) -> list:
    """The routes through ``entry`` as they would change if its suspension flipped, for what ``user`` sees;
    changed routes first."""
    status = (REINSTATE if entry.status == "suspended" else SUSPEND)[kind]
    changes = route_changes(**{kind: entry}, status=status, user=user)
    return sorted(changes, key=lambda change: (not change.changed, change.facts.feature_name, change.facts.region))


def catalog_routes_panel(request, kind: str, entry) -> dict | None:
    """The section's placeholder: no query (its body comes from ``routes_url``)."""
    if kind not in SUSPEND:  # prompts, policy packs and datasets cannot be suspended
        return None
    return {
        "title": "Live routes",
        "template": "routing/partials/catalog_routes.html",
        "context": {
            "kind": kind,
            "entry": entry,
            "suspended": entry.status == "suspended",
            "panel_url": routes_url(kind, entry),
        },
    }


def routes_panel_body(*, user, kind: str, entry) -> dict:
    """What the section shows ``user``: every visible route decided, the first ``ROWS`` listed (changed first)."""
    changes = visible_changes(user, entry, kind)
    return {
        "kind": kind,
        "entry": entry,
        "suspended": entry.status == "suspended",
        "changes": changes[:ROWS],
        "total": len(changes),
        "changed": sum(change.changed for change in changes),
        "can_change": is_governance(user),
        "panel_url": routes_url(kind, entry),
    }


def decision_log_panel(request, feature, version=None) -> dict | None:
    """The feature page's "Decision log" section: where to export the ledger, for those who may (the
    feature's team, governance admins and auditors). No query: the page links, the export counts."""
    from django.conf import settings

    from routing.export import can_export_decisions

    if version is not None or not can_export_decisions(request.user, feature):
        return None
    return {
        "title": "Decision log",
        "template": "routing/partials/decision_log_panel.html",
        "context": {
            "url": reverse("routing:decision_export", args=[feature.slug]),
            "retention_days": settings.GATEHOUSE_DECISION_RETENTION_DAYS,
        },
    }
