"""What happens after a sweep or a write commits cannot undo or misreport it: queueing the emails and
escalations, and the recheck after new evidence, are robust on-commit steps."""

import pytest

from approvals.models import GatePolicy
from freshness import tasks
from freshness.choices import FindingState, SweepStatus
from freshness.models import FreshnessFinding, SweepRun
from freshness.services import freshness_sweep
from registry.models import Evaluation
from registry.services import evaluation_record
from tests.freshness.world import days_ago, default_gates, evidence, live  # noqa: F401  (default_gates: autouse)

pytestmark = pytest.mark.django_db(transaction=True)


def broker_down(*args, **kwargs):
    raise OSError("broker unreachable")


def test_a_broker_failure_after_the_sweep_committed_does_not_record_a_failed_run(live, monkeypatch):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=120)
    GatePolicy.objects.update(escalation_grace_days=0)
    monkeypatch.setattr(tasks.escalate_findings, "delay", broker_down)

    run = freshness_sweep()

    assert run.status == SweepStatus.SUCCEEDED and run.escalations == 1
    assert list(SweepRun.objects.values_list("status", flat=True)) == [SweepStatus.SUCCEEDED]
    assert FreshnessFinding.objects.get(version=version).state == FindingState.STALE


def test_recording_evidence_succeeds_even_when_its_recheck_cannot_be_queued(live, monkeypatch):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=120)
    freshness_sweep()
    monkeypatch.setattr(tasks.recheck_versions, "apply_async", broker_down)  # core.queueing.enqueue

    evaluation = evaluation_record(
        actor=live.product_owner,
        version=version,
        kind="benchmark",
        suite="gold",
        metric="accuracy",
        score=0.95,
        threshold=0.9,
        run_at=days_ago(0, hours=1),
    )

    assert Evaluation.objects.filter(pk=evaluation.pk).exists()
    assert FreshnessFinding.objects.get(version=version).closed_at is None  # the next sweep closes it
    freshness_sweep()
    assert FreshnessFinding.objects.get(version=version).close_reason == "fresh"
