"""The "Evidence pack" section of the feature and version pages (registered in PacksConfig.ready).

The section loads its body with htmx (``packs:panel``), so the feature and version pages cost no query
more for it; without JavaScript it is a link to the pack's request page.
"""

from django.urls import reverse

from packs.choices import PackFormat
from packs.permissions import REFUSAL, can_export_packs_of
from packs.selectors import recent_exports_of


def request_url(feature, version=None) -> str:
    if version is not None:
        return reverse("packs:export_request_version", args=[feature.slug, version.number])
    return reverse("packs:export_request", args=[feature.slug])


def pack_panel(request, feature, version=None) -> dict:
    panel_url = reverse("packs:panel", args=[feature.slug])
    if version is not None:
        panel_url += f"?version={version.number}"
    return {
        "title": "Evidence pack",
        "template": "packs/partials/feature_panel.html",
        "context": {
            "feature": feature,
            "version": version,
            "panel_url": panel_url,
            "request_url": request_url(feature, version),
        },
    }


def pack_panel_body(*, user, feature, version=None) -> dict:
    """What the section shows this user: the form and their recent packs, or who may build packs."""
    allowed = can_export_packs_of(user, feature)
    return {
        "feature": feature,
        "version": version,
        "allowed": allowed,
        "refusal": REFUSAL,
        "formats": PackFormat.choices,
        "request_url": request_url(feature, version),
        "recent": recent_exports_of(user=user, feature=feature, version=version) if allowed else [],
    }
