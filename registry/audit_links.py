"""Where the audit trail links the registry's own objects, for a reader (see ``extensions.audit_object_links``).

Each provider looks the objects up through the selectors that say what the reader may see, so an object on
a feature the reader may not see is never linked (it is shown by the name the event recorded).
"""

from __future__ import annotations

from django.urls import reverse

from registry import extensions, selectors
from registry.models import (
    CatalogModel,
    FeatureChangeRequest,
    PolicyPack,
    ReviewerGrant,
    Vendor,
)


def int_ids(ids) -> list[int]:
    """The ids that are numbers (an event may name an object by another key: those are not linked)."""
    return [int(pk) for pk in ids if str(pk).isdigit()]


def _features(ids, user):
    return {
        str(pk): reverse("registry:feature_detail", args=[slug])
        for pk, slug in selectors.features_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", "slug")
    }


def _versions(ids, user):
    rows = selectors.versions_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", "feature__slug", "number")
    return {str(pk): reverse("registry:version_detail", args=[slug, number]) for pk, slug, number in rows}


def _by_feature(model, anchor: str = ""):
    """Objects shown on their feature's page."""

    def provider(ids, user):
        visible = selectors.features_visible_to(user)
        rows = model.objects.filter(pk__in=int_ids(ids), feature__in=visible).values_list("pk", "feature__slug")
        return {str(pk): reverse("registry:feature_detail", args=[slug]) + anchor for pk, slug in rows}

    return provider


def _deployments(ids, user):
    rows = selectors.deployments_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", "feature__slug")
    return {str(pk): reverse("registry:feature_detail", args=[slug]) + "#live" for pk, slug in rows}


def _evaluations(ids, user):
    rows = (
        selectors.evaluations_visible_to(user)
        .filter(pk__in=int_ids(ids))
        .values_list("pk", "version__feature__slug", "version__number")
    )
    return {str(pk): reverse("registry:version_detail", args=[slug, number]) for pk, slug, number in rows}


def _vendors(ids, user):
    rows = Vendor.objects.filter(pk__in=int_ids(ids)).values_list("pk", "slug")
    return {str(pk): reverse("registry:vendor_detail", args=[slug]) for pk, slug in rows}


def _catalog(queryset_for, url_name: str):
    def provider(ids, user):
        pks = queryset_for(user).filter(pk__in=int_ids(ids)).values_list("pk", flat=True)
        return {str(pk): reverse(url_name, args=[pk]) for pk in pks}

    return provider


def register() -> None:
    links = {
        "aifeature": _features,
        "featureversion": _versions,
        "featurechangerequest": _by_feature(FeatureChangeRequest, "#pending-change"),
        "reviewergrant": _by_feature(ReviewerGrant, "#reviewers"),
        "deployment": _deployments,
        "evaluation": _evaluations,
        "vendor": _vendors,
        "catalogmodel": _catalog(lambda user: CatalogModel.objects.all(), "registry:model_detail"),
        "promptversion": _catalog(lambda user: selectors.prompt_list(user=user), "registry:prompt_detail"),
        "policypack": _catalog(lambda user: PolicyPack.objects.all(), "registry:policy_detail"),
        "dataset": _catalog(lambda user: selectors.dataset_list(user=user), "registry:dataset_detail"),
    }
    for object_type, provider in links.items():
        extensions.register_audit_object_links(object_type, provider)
