"""The monitoring plans' rules, as the freshness sweep applies them: pure reads, a fixed number of queries.

A feature's plan (``MonitoringPlan``) holds its live production versions to two kinds of promise:

- each evaluation kind the plan names is run again on every live production version at least every
  ``interval_days`` days: none recorded is *missing*, one older than the interval is *stale* (overdue), one
  within a few days of it is *due soon*;
- the plan's reviewer reviews what the monitoring shows every ``review_interval_days`` days (counted from
  the last review, or from when the plan was made): overdue is *stale*, close to it *due soon*.

A feature not live in production is held to nothing yet: the plan is about monitoring after release.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from approvals.checks import latest_evaluations
from approvals.choices import Gate
from approvals.models import GateAssignment
from freshness.choices import FindingState
from freshness.models import MonitoringPlan
from registry.choices import Environment
from registry.models import Deployment

DUE_SOON_DAYS = 7  # at most; never more than half the interval

REVIEW = ""  # the evidence kind of a review finding: it is about no evaluation


def due_soon_window(interval_days: int) -> timedelta:
    return timedelta(days=min(DUE_SOON_DAYS, interval_days // 2))


def state_for(due_at: datetime, interval_days: int, now: datetime) -> str:
    """``stale`` once ``due_at`` has passed, ``due_soon`` within the window before it, else ``ok``."""
    if due_at <= now:
        return FindingState.STALE
    if due_at - now <= due_soon_window(interval_days):
        return FindingState.DUE_SOON
    return "ok"


@dataclass(frozen=True)
class PlanTarget:
    """What a monitoring plan finding should say now. ``version_id`` None and ``kind`` "" for the review."""

    feature_id: int
    version_id: int | None
    kind: str
    state: str  # "ok" or a FindingState
    gate: str
    interval_days: int
    evaluation_id: int | None = None
    due_at: datetime | None = None

    @property
    def key(self) -> tuple:
        return (self.feature_id, self.version_id, self.kind)


@dataclass
class PlanAssessment:
    targets: dict[tuple, PlanTarget] = field(default_factory=dict)
    live_versions: dict[int, set[int]] = field(default_factory=dict)  # feature -> live production versions
    planned: dict[int, set[str]] = field(default_factory=dict)  # feature with a plan -> its evaluation kinds


def _production_gates(feature_ids) -> dict[int, str]:
    """The gate each feature's production promotions pass (its escalation grace applies to plan findings)."""
    from registry.models import AIFeature

    by_tier = dict(GateAssignment.objects.filter(environment=Environment.PRODUCTION).values_list("risk_tier", "gate"))
    return {
        feature_id: by_tier.get(tier, Gate.PRODUCTION)
        for feature_id, tier in AIFeature.objects.filter(pk__in=feature_ids).values_list("pk", "risk_tier")
    }


def assess_plans(*, feature_ids=None, now: datetime) -> PlanAssessment:
    """What every monitoring plan (of ``feature_ids``, or all) says about the live production versions now."""
    plans = MonitoringPlan.objects.prefetch_related("evaluations")
    if feature_ids is not None:
        plans = plans.filter(feature_id__in=list(feature_ids))
    plans = list(plans)
    assessment = PlanAssessment()
    if not plans:
        return assessment
    plan_features = [plan.feature_id for plan in plans]
    for feature_id, version_id in (
        Deployment.objects.filter(feature_id__in=plan_features, environment=Environment.PRODUCTION)
        .values_list("feature_id", "version_id")
        .distinct()
        .order_by()
    ):
        assessment.live_versions.setdefault(feature_id, set()).add(version_id)
    live_ids = set().union(*assessment.live_versions.values()) if assessment.live_versions else set()
    newest = latest_evaluations(live_ids) if live_ids else {}
    gates = _production_gates(plan_features)
    for plan in plans:
        rules = list(plan.evaluations.all())
        assessment.planned[plan.feature_id] = {rule.kind for rule in rules}
        live = assessment.live_versions.get(plan.feature_id)
        if not live:
            continue
        gate = gates.get(plan.feature_id, Gate.PRODUCTION)
        due = plan.review_due_at
        review = PlanTarget(
            feature_id=plan.feature_id,
            version_id=None,
            kind=REVIEW,
            state=state_for(due, plan.review_interval_days, now),
            gate=gate,
            interval_days=plan.review_interval_days,
            due_at=due,
        )
        assessment.targets[review.key] = review
        for version_id in sorted(live):
            for rule in rules:
                evaluation = newest.get(version_id, {}).get(rule.kind)
                if evaluation is None:
                    state, due = FindingState.MISSING, None
                else:
                    due = evaluation.run_at + timedelta(days=rule.interval_days)
                    state = state_for(due, rule.interval_days, now)
                target = PlanTarget(
                    feature_id=plan.feature_id,
                    version_id=version_id,
                    kind=rule.kind,
                    state=state,
                    gate=gate,
                    interval_days=rule.interval_days,
                    evaluation_id=evaluation.pk if evaluation else None,
                    due_at=due,
                )
                assessment.targets[target.key] = target
    return assessment


def features_of_versions(version_ids) -> set[int]:
    from registry.models import FeatureVersion

    return set(FeatureVersion.objects.filter(pk__in=list(version_ids)).values_list("feature_id", flat=True))


def plan_summary(plan: MonitoringPlan, *, now: datetime) -> dict:
    """The plan's promises as the panel and the plan page show them: each evaluation kind on each live
    production version (its newest run and when the next is due), and the review."""
    live = sorted(
        set(
            Deployment.objects.filter(feature_id=plan.feature_id, environment=Environment.PRODUCTION).values_list(
                "version_id", "version__number"
            )
        ),
        key=lambda pair: pair[1],
    )
    newest = latest_evaluations([version_id for version_id, _ in live]) if live else {}
    rows = defaultdict(list)
    for rule in plan.evaluations.all():
        for version_id, number in live:
            evaluation = newest.get(version_id, {}).get(rule.kind)
            due = evaluation.run_at + timedelta(days=rule.interval_days) if evaluation else None
            rows[rule.kind].append(
                {
                    "number": number,
                    "evaluation": evaluation,
                    "due_at": due,
                    "state": FindingState.MISSING if evaluation is None else state_for(due, rule.interval_days, now),
                }
            )
    return {
        "live": bool(live),
        "rules": [{"rule": rule, "versions": rows.get(rule.kind, [])} for rule in plan.evaluations.all()],
        "review_state": state_for(plan.review_due_at, plan.review_interval_days, now),
    }
