"""Does a version meet a gate's evidence and readiness requirements right now? Pure reads.

Requirements come from a request's snapshot (or a policy turned into one), so a request is judged by
the rules it was opened under.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from approvals.choices import ReadinessItem
from registry.choices import EvaluationKind
from registry.models import AIFeature, Evaluation


@dataclass(frozen=True)
class Check:
    kind: str  # "evidence", "readiness", or "compliance" (approvals.extensions.gate_check_providers)
    key: str  # the evaluation kind or the readiness item
    label: str
    ok: bool
    state: str  # ok, missing, failing, below_minimum, stale
    detail: str
    evaluation: Evaluation | None = None

    @property
    def age_days(self) -> int | None:
        return (timezone.now() - self.evaluation.run_at).days if self.evaluation else None


def latest_evaluations(version_ids: Iterable[int]) -> dict[int, dict[str, Evaluation]]:
    """The newest evaluation of each kind for each version, in one query.

    On PostgreSQL the database keeps only the newest of each (``DISTINCT ON``, along the
    (version, kind, -run_at) index): at scale a live version has a long history, and building a model
    instance for every older result was most of the time of the readiness inventory and of a cold resolve."""
    newest: dict[int, dict[str, Evaluation]] = {}
    evaluations = (
        Evaluation.objects.filter(version_id__in=list(version_ids))
        .select_related("region")
        .order_by("version_id", "kind", "-run_at", "-id")
    )
    if connection.features.can_distinct_on_fields:
        evaluations = evaluations.distinct("version_id", "kind")
    for evaluation in evaluations:
        newest.setdefault(evaluation.version_id, {}).setdefault(evaluation.kind, evaluation)
    return newest


def evidence_state(
    *, passed: bool, score: float, run_at: datetime, min_score: float | None, max_age_days: int | None, now: datetime
) -> str:
    """The one rule for whether a newest result satisfies an evidence requirement.

    ``failing``, ``below_minimum``, ``stale`` or ``ok``. Evidence is stale once it is more than
    ``max_age_days`` whole days old. The gate and the freshness sweep both judge by this.
    """
    if not passed:
        return "failing"
    if min_score is not None and score < min_score:
        return "below_minimum"
    if max_age_days is not None and (now - run_at).days > max_age_days:
        return "stale"
    return "ok"


def stale_from(run_at: datetime, max_age_days: int | None) -> datetime | None:
    """When evidence run at ``run_at`` goes stale under ``max_age_days`` (None: it never does)."""
    return None if max_age_days is None else run_at + timedelta(days=max_age_days + 1)


def evidence_checks(
    requirements: dict, newest_by_kind: dict[str, Evaluation], *, now: datetime | None = None
) -> list[Check]:
    now = now or timezone.now()
    checks = []
    for rule in requirements.get("evidence", []):
        kind = rule["kind"]
        label = EvaluationKind(kind).label
        evaluation = newest_by_kind.get(kind)
        if evaluation is None:
            checks.append(Check("evidence", kind, label, False, "missing", f"No {label.lower()} evaluation recorded."))
            continue
        age = (now - evaluation.run_at).days
        max_age = rule.get("max_age_days")
        min_score = rule.get("min_score")
        state = evidence_state(
            passed=evaluation.passed,
            score=evaluation.score,
            run_at=evaluation.run_at,
            min_score=min_score,
            max_age_days=max_age,
            now=now,
        )
        if state == "failing":
            detail = f"Newest result failed its threshold ({evaluation.score:g} vs {evaluation.threshold:g})."
        elif state == "below_minimum":
            detail = f"Score {evaluation.score:g} is below the gate's minimum {min_score:g}."
        elif state == "stale":
            detail = f"{age} days old; the gate accepts at most {max_age}."
        else:
            detail = f"{evaluation.score:g} on {evaluation.run_at:%d %b %Y} ({age} days ago)."
        checks.append(Check("evidence", kind, label, state == "ok", state, detail, evaluation))
    return checks


def readiness_checks(requirements: dict, feature: AIFeature) -> list[Check]:
    present = {
        ReadinessItem.ROLLBACK_PATH: lambda: bool(feature.rollback_path.strip()),
        ReadinessItem.MONITOR: lambda: bool(feature.monitor_links),
        ReadinessItem.INCIDENT_OWNER: lambda: bool(feature.incident_owner_id and feature.incident_owner.is_active),
        ReadinessItem.SLOS: lambda: bool(feature.slo_lines),
    }
    checks = []
    for item in requirements.get("readiness", []):  # only what the gate asks for is looked at
        label = ReadinessItem(item).label
        ok = present[item]()
        detail = "In place." if ok else f"{label} is not set on the feature."
        checks.append(Check("readiness", item, label, ok, "ok" if ok else "missing", detail))
    return checks


def all_checks(
    requirements: dict,
    feature: AIFeature,
    newest_by_kind: dict[str, Evaluation],
    *,
    version=None,
    environment: str | None = None,
) -> list[Check]:
    """The gate's evidence and readiness checks; with ``version`` and ``environment`` (where a request is
    opened, approved, promoted from or reviewed), also what the apps above require of it
    (``approvals.extensions.gate_check_providers``: a high-risk feature's technical file)."""
    checks = evidence_checks(requirements, newest_by_kind) + readiness_checks(requirements, feature)
    if version is not None and environment:
        from approvals.extensions import gate_checks

        checks += gate_checks(feature, version=version, environment=environment)
    return checks


def unmet(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok]
