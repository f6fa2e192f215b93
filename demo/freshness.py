"""The demo's evidence-freshness story, for ``seed_demo``, yesterday, after the releases and incidents.

1. Governance tightens the production gate: benchmarks at most 60 days old (was 90). The search
   reranker's live v1 (benchmark run about nine weeks ago) becomes stale, which blocks its promotions;
   the support chatbot's live v2 (benchmark about eight weeks old) is due soon.
2. The contract summariser's weekly safety regression run fails on its live v2: a failing finding.
3. One sweep runs, as beat would, once the seeding commits (so at the real time), and the dashboard has
   findings at once.

Everything goes through the services. Idempotent: each step checks whether it is done.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from approvals.models import GatePolicy
from approvals.services import gate_policy_update
from freshness.choices import SweepTrigger
from freshness.models import SweepRun
from freshness.services import freshness_sweep
from registry.models import AuditEvent, Deployment, Evaluation
from registry.services import evaluation_record

POLICY_REASON = "Quarterly benchmark refresh: production benchmarks at most 60 days old (internal audit, finding 7)."
REGRESSION_SUITE = "weekly-safety-regression"


def plan_freshness(agenda, clock, *, created: Counter, engineers: dict[str, str]) -> None:
    agenda.add(clock.workday(1, "09:45"), lambda: record_regression(created=created, engineers=engineers))
    agenda.add(clock.workday(1, "14:00"), lambda: tighten_benchmarks(created=created))
    agenda.add(clock.real_now, lambda: sweep(created=created))


def tighten_benchmarks(*, created: Counter) -> None:
    governance = get_user_model().objects.get(username="governance")
    policy = GatePolicy.objects.prefetch_related("requirements").get(gate="production")
    if not AuditEvent.objects.filter(action="gate_policy.updated", payload__reason=POLICY_REASON).exists():
        requirements = []
        for requirement in policy.requirements.all():
            spec = {
                "kind": requirement.kind,
                "role": requirement.role,
                "count": requirement.count,
                "evidence_kind": requirement.evidence_kind,
                "min_score": requirement.min_score,
                "max_age_days": requirement.max_age_days,
                "readiness_item": requirement.readiness_item,
            }
            if requirement.evidence_kind == "benchmark":
                spec["max_age_days"] = 60
            requirements.append({key: value for key, value in spec.items() if value not in ("", None)})
        gate_policy_update(
            actor=governance,
            policy=policy,
            reason=POLICY_REASON,
            requirements=requirements,
            review_sla_hours=policy.review_sla_hours,
            approval_valid_days=policy.approval_valid_days,
            description=policy.description,
        )
        created["gate policy changes"] += 1


def record_regression(*, created: Counter, engineers: dict[str, str]) -> None:
    """The nightly run (03:00) of the weekly safety regression, recorded in the morning."""
    User = get_user_model()
    live = (
        Deployment.objects.filter(feature__slug="contract-summariser", environment="production")
        .select_related("version", "feature__team")
        .first()
    )
    if live and not Evaluation.objects.filter(version=live.version, suite=REGRESSION_SUITE).exists():
        engineer = User.objects.get(username=engineers[live.feature.team.slug])
        evaluation_record(
            actor=engineer,
            version=live.version,
            kind="safety",
            suite=REGRESSION_SUITE,
            metric="pass_rate",
            score=0.962,
            threshold=0.98,
            run_at=timezone.now() - timedelta(hours=6, minutes=45),
            notes="Three new jailbreak prompts from the shared red-team corpus get clause text out of the summary.",
        )
        created["evaluations"] += 1


def sweep(*, created: Counter) -> None:
    if not SweepRun.objects.exists():
        # After the seed's transaction commits: it holds the audit chain lock, which must be the last
        # lock taken, and the sweep takes its own lock first.
        transaction.on_commit(lambda: freshness_sweep(trigger=SweepTrigger.COMMAND))
        created["freshness sweeps"] += 1
