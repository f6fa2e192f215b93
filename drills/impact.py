"""Impact analysis: which features, versions and live deployments depend on a catalog entry.

From a vendor (its models as primary or fallback), a model (as primary or fallback), a prompt version,
a policy pack or a dataset (training, evaluation or retrieval). Starting from the permission-restricted
selectors: restricted features stay hidden from those who may not see them.

A popular vendor has thousands of dependent features, so the analysis is paged by feature (by name):
the database counts the features, versions and deployments in one query (kept in the shared cache until
the next audited change, for those who see the same features), and only the page's features have their
versions (with how each uses the entry) and live deployments loaded. A fixed number of queries
whatever the number of features.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from core.kept import kept
from drills.choices import IMPACT_KINDS
from registry.models import (
    AIFeature,
    CatalogModel,
    Dataset,
    Deployment,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    Vendor,
    VersionDataset,
    VersionFallback,
)
from registry.selectors import audit_trail_position, features_visible_to, versions_depending_on, visibility_key

ENTRY_MODELS = {
    "vendor": Vendor,
    "model": CatalogModel,
    "prompt": PromptVersion,
    "policy": PolicyPack,
    "dataset": Dataset,
}
API_KINDS = {api_kind: kind for kind, api_kind in IMPACT_KINDS.items()}  # "policy-pack" -> "policy"


class UnknownEntry(LookupError):
    """No such kind of catalog entry, or no entry of that kind has the key."""


def find_entry(api_kind: str, key: str) -> tuple[str, object]:
    """The catalog page's kind and the entry named by an impact URL's kind and key (an id; a vendor's slug
    too)."""
    if api_kind not in API_KINDS:
        raise UnknownEntry(f"Unknown kind '{api_kind}': choose one of {', '.join(API_KINDS)}.")
    kind = API_KINDS[api_kind]
    lookup = {"pk": int(key)} if key.isdigit() else ({"slug": key} if kind == "vendor" else None)
    entry = ENTRY_MODELS[kind].objects.filter(**lookup).first() if lookup is not None else None
    if entry is None:
        raise UnknownEntry(f"No {api_kind} has the id '{key}'.")
    return kind, entry


def entry_key(kind: str, entry) -> str:
    """How impact URLs name ``entry``: a vendor by its slug, the others by id."""
    return entry.slug if kind == "vendor" else str(entry.pk)


@dataclass
class FeatureImpact:
    feature: object
    versions: list = field(default_factory=list)
    live: list = field(default_factory=list)


@dataclass
class ImpactTotals:
    features: int = 0
    versions: int = 0
    deployments: int = 0


@dataclass
class Impact:
    """The totals over every visible dependent feature; ``features``, ``versions`` and ``deployments`` for
    one page of those features."""

    kind: str
    entry: object
    totals: ImpactTotals = field(default_factory=ImpactTotals)
    features: list[FeatureImpact] = field(default_factory=list)
    versions: list = field(default_factory=list)  # each with ``.uses``: how it depends on the entry
    deployments: list = field(default_factory=list)


def dependent_versions(*, user, kind: str, entry) -> QuerySet[FeatureVersion]:
    """Every version ``user`` may see that depends on ``entry`` (the registry's one rule for it)."""
    return versions_depending_on(kind, entry, user=user)


def impact_features(*, user, kind: str, entry) -> QuerySet[AIFeature]:
    """The features ``user`` may see with a version that depends on ``entry``, by name: what is paged."""
    return (
        features_visible_to(user)
        .filter(pk__in=dependent_versions(user=user, kind=kind, entry=entry).values("feature_id"))
        .select_related("team")
        .order_by("name", "pk")
    )


# Where the totals of an entry's impact are kept for those who see the same features: the trail's position
# (any change made through the services moves it: a version, a promotion, a fallback, a move of a feature),
# the entry, and who sees what (``registry.selectors.visibility_key``). The bound is for a change made
# behind the services.
TOTALS_KEY = "drills:impact-totals:{trail}:{kind}:{pk}:{viewer}"
TOTALS_SECONDS = 600


def impact_totals(*, user, kind: str, entry) -> ImpactTotals:
    """The dependent features, versions and their live deployments, counted in one query and kept until
    the trail moves (counting a popular vendor's versions reads every version). The features are those
    ``impact_features`` lists (the same visible versions' features): its paginator takes the count from
    here instead of counting them again."""
    viewer = visibility_key(user)
    trail = audit_trail_position() if viewer is not None else None
    key = None
    if trail is not None:
        key = TOTALS_KEY.format(trail=trail, kind=kind, pk=entry.pk, viewer=viewer)

    def count():
        counts = dependent_versions(user=user, kind=kind, entry=entry).aggregate(
            features=Count("feature_id", distinct=True),
            versions=Count("pk", distinct=True),
            deployments=Count("deployments", distinct=True),
        )
        return counts, TOTALS_SECONDS

    return ImpactTotals(**kept(key, count))


def _uses(kind: str, entry, version) -> list[str]:
    if kind in ("vendor", "model"):
        hit = (lambda model: model.vendor_id == entry.pk) if kind == "vendor" else (lambda model: model.pk == entry.pk)
        uses = [f"primary {version.model.vendor.slug}/{version.model.identifier}"] if hit(version.model) else []
        return uses + [
            f"fallback {link.position} {link.model.vendor.slug}/{link.model.identifier}"
            for link in version.fallbacks.all()
            if hit(link.model)
        ]
    if kind == "dataset":
        return [f"{link.get_usage_display().lower()} data" for link in version.dataset_links.all()]
    return ["prompt" if kind == "prompt" else "policy pack"]


def impact_of(*, user, kind: str, entry, features, totals: ImpactTotals) -> Impact:
    """What depends on ``entry`` among ``features`` (one page of ``impact_features``): their dependent
    versions, newest first, and the live deployments of those versions. Three queries (four with the
    fallbacks or dataset links that say how a version uses the entry)."""
    impact = Impact(kind=kind, entry=entry, totals=totals)
    by_feature = {feature.pk: FeatureImpact(feature) for feature in features}
    if not by_feature:
        return impact
    versions = (
        dependent_versions(user=user, kind=kind, entry=entry)
        .filter(feature_id__in=list(by_feature))
        .select_related("model", "model__vendor")
        .order_by("-number")
    )
    if kind in ("vendor", "model"):
        versions = versions.prefetch_related(
            Prefetch("fallbacks", queryset=VersionFallback.objects.select_related("model__vendor").order_by("position"))
        )
    elif kind == "dataset":
        versions = versions.prefetch_related(
            Prefetch("dataset_links", queryset=VersionDataset.objects.filter(dataset=entry).order_by("usage"))
        )
    for version in versions:
        version.feature = by_feature[version.feature_id].feature
        version.uses = _uses(kind, entry, version)
        by_feature[version.feature_id].versions.append(version)
    dependent_ids = [version.pk for item in by_feature.values() for version in item.versions]
    for deployment in (
        Deployment.objects.filter(version_id__in=dependent_ids, feature_id__in=list(by_feature))
        .select_related("region", "version")
        .order_by("-environment", "region__code")
    ):
        deployment.feature = by_feature[deployment.feature_id].feature
        by_feature[deployment.feature_id].live.append(deployment)
    impact.features = list(by_feature.values())  # in the page's order: by name
    impact.versions = [version for item in impact.features for version in item.versions]
    impact.deployments = [deployment for item in impact.features for deployment in item.live]
    return impact
