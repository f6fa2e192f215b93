"""The vendor and model pages' "Live routes" section (registered in RoutingConfig.ready).

The section loads its body with htmx (``routing:vendor_routes``, ``routing:model_routes``), a page of
``ROWS`` routes at a time: the body judges every live route through the vendor or model as things are
and with its suspension flipped (``routing.impact.CatalogRoutes``: plain rows, each distinct case judged
once), for the totals and the changed-first order, and builds only the page's rows; the catalog page
itself costs no query for it. Without JavaScript the section is a link to the same URL, which then
answers as a page of its own.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404
from django.urls import reverse

from registry.permissions import is_governance
from registry.selectors import visibility_key
from routing import selectors
from routing.impact import REINSTATE, SUSPEND, CatalogRoutes

ROWS = 50  # routes a page of the section lists (the API pages alike: 50 by default, up to 200)


def catalog_entry(kind: str, key):
    """The vendor (by slug) or model (by id) a routes URL names, or 404."""
    return get_object_or_404(selectors.catalog_entries(kind), **{"slug" if kind == "vendor" else "pk": key})


def catalog_key(kind: str, entry):
    """How routes URLs name ``entry``: a vendor by its slug, a model by its id."""
    return entry.slug if kind == "vendor" else entry.pk


def routes_url(kind: str, entry) -> str:
    return reverse(f"routing:{kind}_routes", args=[catalog_key(kind, entry)])


def visible_changes(user, entry, kind: str) -> CatalogRoutes:
    """The routes through ``entry`` as they would change if its suspension flipped, for what ``user`` sees;
    changed routes first. A sequence: slice it for the rows shown (only those are built)."""
    status = (REINSTATE if entry.status == "suspended" else SUSPEND)[kind]
    return CatalogRoutes(**{kind: entry}, status=status, user=user, viewer=visibility_key(user))


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


def routes_panel_body(*, user, kind: str, entry, page=None) -> dict:
    """What the section shows ``user``: the totals over every visible route and one page of ``ROWS`` of
    them, changed first (``page``: a bad or too-large number shows the nearest page)."""
    routes = visible_changes(user, entry, kind)
    page_obj = Paginator(routes, ROWS).get_page(page)
    return {
        "kind": kind,
        "entry": entry,
        "suspended": entry.status == "suspended",
        "changes": page_obj.object_list,
        "page_obj": page_obj,
        "total": len(routes),
        "changed": routes.changed,
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
