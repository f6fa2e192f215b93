"""Reads of the readiness app, restricted to the features the user may see."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Avg, Count, Q
from django.utils import timezone

from readiness.checklist import FeatureReadiness, readiness_many
from readiness.choices import HISTORY_DAYS, ReadinessCheck
from readiness.filters import ReadinessFilter, apply_checklist_filters
from readiness.models import ReadinessSnapshot
from registry.choices import RiskTier
from registry.models import AIFeature, Evaluation
from registry.selectors import features_visible_to


def feature_readiness(*, user, slug: str) -> FeatureReadiness:
    """Raises ``AIFeature.DoesNotExist`` for a feature the user may not see, as for a missing one."""
    features = features_visible_to(user).filter(slug=slug)
    found = readiness_many(features)
    if not found:
        raise AIFeature.DoesNotExist(f"No feature '{slug}'.")
    return found[0]


def inventory(*, user, data=None, request=None) -> tuple[ReadinessFilter, list[FeatureReadiness], list[FeatureReadiness]]:
    """(filterset, every visible feature's readiness, the rows the filters keep), in a constant number of
    queries: the checklist is computed once for all visible features, the filters pick among them."""
    visible = features_visible_to(user).order_by("name", "pk")
    filterset = ReadinessFilter(data or None, queryset=visible, request=request)
    everything = readiness_many(visible)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, everything, []
    kept = set(filterset.qs.values_list("pk", flat=True))
    rows = [row for row in everything if row.feature.pk in kept]
    return filterset, everything, apply_checklist_filters(rows, **filterset.checklist_filters())


def gaps(rows: list[FeatureReadiness]) -> dict:
    """Features missing each item, per team and per risk tier (from rows already computed: no query)."""
    keys = ReadinessCheck.values

    def table(key_of, label_of, order):
        found: dict = {}
        for row in rows:
            key = key_of(row.feature)
            entry = found.setdefault(key, {"label": label_of(row.feature), "features": 0, "ready": 0,
                                           "missing": dict.fromkeys(keys, 0)})
            entry["features"] += 1
            entry["ready"] += row.ready
            for item in row.missing:
                entry["missing"][item] += 1
        return [
            {"key": key, **entry, "counts": [(item, entry["missing"][item]) for item in keys]}
            for key, entry in sorted(found.items(), key=order)
        ]

    tiers = RiskTier.values
    return {
        "items": [(key, ReadinessCheck(key).label) for key in keys],
        "by_team": table(lambda f: f.team.slug, lambda f: f.team.name, lambda kv: kv[1]["label"]),
        "by_tier": table(lambda f: f.risk_tier, lambda f: f.get_risk_tier_display(), lambda kv: -tiers.index(kv[0])),
        "features": len(rows),
        "ready": sum(row.ready for row in rows),
        "missing": {key: sum(key in row.missing for row in rows) for key in keys},
    }


def history(*, user, days: int = HISTORY_DAYS) -> list[dict]:
    """Per day: how many visible features were snapshotted, how many were ready, their mean score (one query)."""
    since = timezone.localdate() - timedelta(days=days - 1)
    return list(
        ReadinessSnapshot.objects.filter(feature__in=features_visible_to(user), day__gte=since)
        .values("day")
        .annotate(features=Count("id"), ready=Count("id", filter=Q(ready=True)), mean_score=Avg("score"))
        .order_by("day")
    )


def feature_history(*, feature: AIFeature, days: int = HISTORY_DAYS):
    since = timezone.localdate() - timedelta(days=days - 1)
    return ReadinessSnapshot.objects.filter(feature=feature, day__gte=since).order_by("day")


def evaluation_series(*, feature: AIFeature, limit: int = 500) -> dict[str, list[dict]]:
    """The feature's evaluation scores over time, one series per kind, oldest first (one query)."""
    series: dict[str, list[dict]] = {}
    rows = (
        Evaluation.objects.filter(version__feature=feature)
        .order_by("-run_at", "-id")
        .values("kind", "score", "threshold", "passed", "run_at", "version__number", "suite", "metric")[:limit]
    )
    for row in reversed(list(rows)):
        series.setdefault(row["kind"], []).append({
            "at": row["run_at"], "score": row["score"], "threshold": row["threshold"], "passed": row["passed"],
            "version": row["version__number"], "suite": row["suite"], "metric": row["metric"],
        })
    return series
