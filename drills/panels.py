"""The "Impact" section of the five catalog pages (registered in DrillsConfig.ready).

The section loads its body with htmx (``drills:impact``), a page of the dependent features at a time:
a popular vendor has thousands, and the catalog page costs no query for them. Without JavaScript the
section is a link to the same URL, which then answers as a page of its own.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import reverse

from core.pagination import counted
from drills.choices import IMPACT_KINDS
from drills.impact import entry_key, impact_features, impact_of, impact_totals

PAGE_SIZE = 50  # features per page of the section


def impact_url(kind: str, entry) -> str:
    return reverse("drills:impact", args=[IMPACT_KINDS[kind], entry_key(kind, entry)])


def catalog_impact_panel(request, kind: str, entry) -> dict | None:
    """The section's placeholder: no query (its body comes from ``impact_url``)."""
    if kind not in IMPACT_KINDS:
        return None
    return {
        "title": "Impact",
        "template": "drills/partials/impact_panel.html",
        "context": {"panel_url": impact_url(kind, entry)},
    }


def impact_panel_body(*, user, kind: str, entry, page=None) -> dict:
    """One page of the features that depend on ``entry`` (``page``: a bad or too-large number shows the
    nearest page), with the totals over all of them. Constant queries whatever their number."""
    totals = impact_totals(user=user, kind=kind, entry=entry)
    pages = counted(Paginator(impact_features(user=user, kind=kind, entry=entry), PAGE_SIZE), totals.features)
    page_obj = pages.get_page(page)
    impact = impact_of(user=user, kind=kind, entry=entry, features=list(page_obj.object_list), totals=totals)
    return {
        "kind": kind,
        "entry": entry,
        "impact": impact,
        "page_obj": page_obj,
        "panel_url": impact_url(kind, entry),
        "api_url": reverse("drills-api:impact", args=[IMPACT_KINDS[kind], entry_key(kind, entry)]),
    }
