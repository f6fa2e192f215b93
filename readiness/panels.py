"""The feature page's "Readiness" section (registered in ReadinessConfig.ready).

The section loads its body with htmx (``readiness:panel``): the checklist decides every live route, so
computing it on the feature page would add its queries to the registry's busiest page. Without
JavaScript it is a link to the feature's readiness page.
"""

from django.urls import reverse


def readiness_panel(request, feature, version=None) -> dict | None:
    if version is not None:
        return None  # readiness is the feature's, not a version's
    return {
        "title": "Readiness",
        "template": "readiness/partials/feature_panel.html",
        "context": {
            "panel_url": reverse("readiness:panel", args=[feature.slug]),
            "detail_url": reverse("readiness:feature", args=[feature.slug]),
        },
    }


def readiness_panel_body(readiness) -> dict:
    return {
        "readiness": readiness,
        "detail_url": reverse("readiness:feature", args=[readiness.feature.slug]),
        "dashboard_url": reverse("readiness:dashboard"),
    }
