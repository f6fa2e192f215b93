"""Compliance's section of the feature page (registered in ``ComplianceConfig.ready``): read by htmx once
the page has loaded, so the feature page pays nothing for it."""

from __future__ import annotations

from django.urls import reverse


def compliance_panel(request, feature, version=None) -> dict:
    return {
        "title": "EU AI Act",
        "template": "compliance/partials/feature_panel.html",
        "context": {"panel_url": reverse("compliance:panel", args=[feature.slug]), "feature": feature},
    }
