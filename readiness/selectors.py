"""Reads of the readiness app, restricted to the features the user may see."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Avg, Count, Q
from django.utils import timezone

from core.kept import kept
from readiness.checklist import FeatureReadiness, readiness_many
from readiness.choices import HISTORY_DAYS, ReadinessCheck
from readiness.current import history_key, missing_items_until, table_key
from readiness.filters import ReadinessFilter, apply_checklist_filters
from readiness.models import ReadinessSnapshot
from registry.choices import RiskTier
from registry.models import AIFeature, Evaluation
from registry.selectors import features_visible_to, visibility_key


def feature_readiness(*, user, slug: str) -> FeatureReadiness:
    """Raises ``AIFeature.DoesNotExist`` for a feature the user may not see, as for a missing one."""
    features = features_visible_to(user).filter(slug=slug)
    found = readiness_many(features)
    if not found:
        raise AIFeature.DoesNotExist(f"No feature '{slug}'.")
    return found[0]


@dataclass(frozen=True)
class Summary:
    """A feature as the inventory's filters and gap tables need it: who, which tier, what is missing."""

    pk: int
    team_slug: str
    team_name: str
    risk_tier: str
    missing: tuple[str, ...]

    @property
    def ready(self) -> bool:
        return not self.missing


class InventoryRows(Sequence):
    """The features the filters keep, in order; a slice (a page) computes those features' full checklists,
    so a page costs the same queries for 20 features as for 5,000."""

    def __init__(self, ids: list[int], *, now: datetime | None = None):
        self.ids, self.now = ids, now

    def __len__(self) -> int:
        return len(self.ids)

    def count(self) -> int:  # the paginators ask this
        return len(self.ids)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 if index != -1 else None][0]
        ids = self.ids[index]
        if not ids:
            return []
        found = {row.feature.pk: row for row in readiness_many(AIFeature.objects.filter(pk__in=ids), now=self.now)}
        return [found[pk] for pk in ids if pk in found]


def _summaries(features) -> tuple[list[Summary], float | None]:
    """A summary of each feature of a queryset (in its order), and when the first of their answers stops
    being current by the clock (``readiness.current.missing_items_until``)."""
    rows = list(
        features.values_list(
            "pk",
            "slug",
            "team__slug",
            "team__name",
            "risk_tier",
            "accountable_owner__is_active",
            "incident_owner__is_active",
        )
    )
    missing, until = missing_items_until([(pk, slug, tuple(owners)) for pk, slug, _team, _name, _tier, *owners in rows])
    summaries = [
        Summary(pk, team_slug, team_name, tier, missing[pk]) for pk, _slug, team_slug, team_name, tier, *_owners in rows
    ]
    return summaries, until


def inventory(*, user, data=None, request=None) -> tuple[ReadinessFilter, InventoryRows]:
    """(filterset, the rows the filters keep).

    Team, tier and search narrow the features in the database; readiness itself (``state``, ``missing``,
    the readiness order) is judged on what each feature is missing, from the shared cache
    (``readiness.current``), for the features those filters keep, and only when asked. Only the rows a
    page shows are computed in full. The gap tables beside them: ``visible_gaps``."""
    visible = features_visible_to(user).order_by("name", "pk")
    filterset = ReadinessFilter(data or None, queryset=visible, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, InventoryRows([])
    # The filtered queryset carries the database columns' order (name, team, tier); readiness itself is
    # judged here, on the computed checklist, keeping that order among equals.
    kept = filterset.qs if filterset.is_bound else visible
    checklist, ordering = filterset.checklist_filters(), filterset.sort_by_readiness()
    if not checklist and not ordering:
        return filterset, InventoryRows(list(kept.values_list("pk", flat=True)))
    rows = apply_checklist_filters(_summaries(kept)[0], **checklist)
    if ordering:
        rows = sorted(rows, key=lambda row: len(row.missing), reverse=ordering == "readiness")
    return filterset, InventoryRows([row.pk for row in rows])


def visible_gaps(*, user) -> dict:
    """``gaps`` of every feature ``user`` may see, kept in the shared cache while nothing it was computed
    from changed (``readiness.current.table_key``) and no answer in it has lapsed by the clock: the
    Readiness page's tables and totals, and the dashboard's readiness by tier, cost a few round trips
    however many features there are, but for the first visitor after a change."""
    viewer = visibility_key(user)
    key = table_key(viewer) if viewer is not None else None

    def compute():
        summaries, until = _summaries(features_visible_to(user).order_by("name", "pk"))
        return gaps(summaries), int(until - time.time()) if until is not None else 0

    return kept(key, compute)


def gaps(rows: list[Summary]) -> dict:
    """Features missing each item, per team and per risk tier (from summaries: no query)."""
    keys = ReadinessCheck.values

    def table(key_of, label_of, order):
        found: dict = {}
        for row in rows:
            key = key_of(row)
            entry = found.get(key)
            if entry is None:
                entry = found[key] = {
                    "label": label_of(row),
                    "features": 0,
                    "ready": 0,
                    "missing": dict.fromkeys(keys, 0),
                }
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
        "by_team": table(lambda row: row.team_slug, lambda row: row.team_name, lambda kv: kv[1]["label"]),
        "by_tier": table(
            lambda row: row.risk_tier, lambda row: RiskTier(row.risk_tier).label, lambda kv: -tiers.index(kv[0])
        ),
        "features": len(rows),
        "ready": sum(row.ready for row in rows),
        "missing": {key: sum(key in row.missing for row in rows) for key in keys},
    }


def history(*, user, days: int = HISTORY_DAYS) -> list[dict]:
    """Per day: how many visible features were snapshotted, how many were ready, their mean score (one query,
    kept in the shared cache until snapshots are written again: at scale it reads 90 days of every feature)."""

    def compute():
        since = timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=days - 1)
        rows = list(
            ReadinessSnapshot.objects.filter(feature__in=features_visible_to(user), day__gte=since)
            .values("day")
            .annotate(features=Count("id"), ready=Count("id", filter=Q(ready=True)), mean_score=Avg("score"))
            .order_by("day")
        )
        return rows, int(settings.READINESS_CACHE_SECONDS)

    return kept(history_key(user, days), compute)


def today_row(table: dict) -> dict:
    """Today as the inventory's history chart draws it, from the gap table beside it (``visible_gaps``; not
    this morning's snapshots): its last point agrees with the page."""
    total = len(ReadinessCheck.values)
    features = table["features"]
    missing = sum(table["missing"].values())
    return {
        "day": timezone.localdate(timezone=timezone.get_default_timezone()),
        "features": features,
        "ready": table["ready"],
        "mean_score": (features * total - missing) / total / features if features else 0,
    }


def feature_history(*, feature: AIFeature, days: int = HISTORY_DAYS):
    since = timezone.localdate(timezone=timezone.get_default_timezone()) - timedelta(days=days - 1)
    return ReadinessSnapshot.objects.filter(feature=feature, day__gte=since).order_by("day")


def evaluation_series(*, feature: AIFeature, limit: int = 500) -> dict[str, list[dict]]:
    """The feature's evaluation scores over time, one series per kind, oldest first (one query)."""
    series: dict[str, list[dict]] = {}
    rows = (
        Evaluation.objects.filter(version__feature=feature)
        .order_by("-run_at", "-id")
        .values(
            "kind", "score", "threshold", "higher_is_better", "passed", "run_at", "version__number", "suite", "metric"
        )[:limit]
    )
    for row in reversed(list(rows)):
        series.setdefault(row["kind"], []).append(
            {
                "at": row["run_at"],
                "score": row["score"],
                "threshold": row["threshold"],
                "higher_is_better": row["higher_is_better"],
                "passed": row["passed"],
                "version": row["version__number"],
                "suite": row["suite"],
                "metric": row["metric"],
            }
        )
    return series
