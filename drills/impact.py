"""Impact analysis: which features, versions and live deployments depend on a catalog entry.

From a vendor (its models as primary or fallback), a model (as primary or fallback), a prompt version,
a policy pack or a dataset (training, evaluation or retrieval). Three queries whatever the number of
versions, starting from the permission-restricted version selector: restricted features stay hidden
from those who may not see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, Q

from registry.models import CatalogModel, Dataset, Deployment, PolicyPack, PromptVersion, Vendor, VersionDataset, VersionFallback
from registry.selectors import versions_visible_to

ENTRY_MODELS = {"vendor": Vendor, "model": CatalogModel, "prompt": PromptVersion, "policy": PolicyPack, "dataset": Dataset}


@dataclass
class FeatureImpact:
    feature: object
    versions: list = field(default_factory=list)
    live: list = field(default_factory=list)


@dataclass
class Impact:
    kind: str
    entry: object
    versions: list = field(default_factory=list)  # each with ``.uses``: how it depends on the entry
    deployments: list = field(default_factory=list)
    features: list[FeatureImpact] = field(default_factory=list)


def _lookup(kind: str, entry) -> Q:
    return {
        "vendor": lambda: Q(model__vendor=entry) | Q(fallbacks__model__vendor=entry),
        "model": lambda: Q(model=entry) | Q(fallbacks__model=entry),
        "prompt": lambda: Q(prompt=entry),
        "policy": lambda: Q(policy_pack=entry),
        "dataset": lambda: Q(dataset_links__dataset=entry),
    }[kind]()


def _uses(kind: str, entry, version) -> list[str]:
    if kind in ("vendor", "model"):
        hit = (lambda model: model.vendor_id == entry.pk) if kind == "vendor" else (lambda model: model.pk == entry.pk)
        uses = [f"primary {version.model.vendor.slug}/{version.model.identifier}"] if hit(version.model) else []
        return uses + [f"fallback {link.position} {link.model.vendor.slug}/{link.model.identifier}"
                       for link in version.fallbacks.all() if hit(link.model)]
    if kind == "dataset":
        return [f"{link.get_usage_display().lower()} data" for link in version.dataset_links.all()]
    return ["prompt" if kind == "prompt" else "policy pack"]


def impact_of(*, user, kind: str, entry) -> Impact:
    """What depends on ``entry`` among the features ``user`` may see."""
    versions = (
        versions_visible_to(user)
        .filter(pk__in=versions_visible_to(user).filter(_lookup(kind, entry)).values("pk"))
        .select_related("feature", "feature__team", "model", "model__vendor")
        .order_by("feature__name", "-number")
    )
    if kind in ("vendor", "model"):
        versions = versions.prefetch_related(
            Prefetch("fallbacks", queryset=VersionFallback.objects.select_related("model__vendor").order_by("position"))
        )
    elif kind == "dataset":
        versions = versions.prefetch_related(
            Prefetch("dataset_links", queryset=VersionDataset.objects.filter(dataset=entry).order_by("usage"))
        )
    versions = list(versions)
    impact = Impact(kind=kind, entry=entry, versions=versions)
    if not versions:
        return impact
    impact.deployments = list(
        Deployment.objects.filter(version__in=[version.pk for version in versions])
        .select_related("feature", "region", "version")
        .order_by("feature__name", "-environment", "region__code")
    )
    by_feature: dict[int, FeatureImpact] = {}
    for version in versions:
        version.uses = _uses(kind, entry, version)
        by_feature.setdefault(version.feature_id, FeatureImpact(version.feature)).versions.append(version)
    for deployment in impact.deployments:
        by_feature[deployment.feature_id].live.append(deployment)
    impact.features = list(by_feature.values())
    return impact
