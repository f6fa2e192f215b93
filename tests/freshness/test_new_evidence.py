"""Closing the loop: recording an evaluation rechecks the version's findings once the recording commits, by
the sweep's own rules. Fresh passing evidence closes the finding at once (the next sweep agrees and does not
reopen it); a newer failing result turns a stale finding into a failing one; evidence that changes nothing
changes nothing."""

import pytest

from freshness.choices import CloseReason, FindingState
from freshness.models import FreshnessFinding
from freshness.services import freshness_sweep
from registry.models import AuditEvent, Notification
from registry.services import evaluation_record
from tests.freshness.world import days_ago, default_gates, evidence, fresh, live, open_findings, states  # noqa: F401


@pytest.fixture
def record(ml_engineer, django_capture_on_commit_callbacks):
    """Record an evaluation through the service and run what it leaves for after commit."""

    def record_(version, kind, *, score=0.95, threshold=0.8, run_at=None):
        with django_capture_on_commit_callbacks(execute=True):
            return evaluation_record(
                actor=ml_engineer,
                version=version,
                kind=kind,
                suite=f"{kind}-suite",
                metric="score",
                score=score,
                threshold=threshold,
                run_at=run_at or days_ago(0, hours=1),
            )

    return record_


@pytest.fixture
def stale_benchmark(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=100)
    freshness_sweep()
    [finding] = open_findings()
    assert finding.state == FindingState.STALE
    return version, finding


def test_fresh_passing_evidence_closes_the_finding_at_once(stale_benchmark, record):
    version, finding = stale_benchmark

    evaluation = record(version, "benchmark")

    finding = fresh(finding)
    assert finding.closed_at is not None
    assert (finding.close_reason, finding.evaluation) == (CloseReason.FRESH, evaluation)
    closed = AuditEvent.objects.get(action="freshness_finding.closed", object_id=str(finding.pk))
    assert closed.payload["close_reason"] == "fresh" and closed.payload["trigger"] == "evaluation"


def test_the_next_sweep_agrees_with_the_recheck_and_does_not_reopen(stale_benchmark, record):
    version, finding = stale_benchmark
    record(version, "benchmark")

    run = freshness_sweep()

    assert (run.findings_opened, run.findings_updated, run.findings_closed, run.open_findings) == (0, 0, 0, 0)
    assert FreshnessFinding.objects.filter(version=version).count() == 1


def test_the_owners_hear_it_is_fresh_again(stale_benchmark, record, product_owner):
    version, _finding = stale_benchmark

    record(version, "benchmark")

    newest = Notification.objects.filter(user=product_owner, key__startswith="freshness:").order_by("-pk").first()
    assert newest.subject.endswith("is fresh again")
    assert Notification.objects.filter(user=product_owner, key__startswith="freshness:").count() == 2


def test_a_newer_failing_result_turns_a_stale_finding_into_failing(stale_benchmark, record):
    version, finding = stale_benchmark

    failed = record(version, "benchmark", score=0.3)

    finding = fresh(finding)
    assert finding.closed_at is None
    assert (finding.state, finding.revision, finding.evaluation) == (FindingState.FAILING, 2, failed)
    changed = AuditEvent.objects.get(action="freshness_finding.changed", object_id=str(finding.pk))
    assert changed.payload["state"] == ["stale", "failing"]


def test_an_old_report_filed_late_changes_nothing(stale_benchmark, record):
    version, finding = stale_benchmark
    audit_before = AuditEvent.objects.count()

    record(version, "benchmark", run_at=days_ago(200))

    assert fresh(finding).state == FindingState.STALE and fresh(finding).revision == 1
    assert list(AuditEvent.objects.filter(sequence__gt=audit_before).values_list("action", flat=True)) == [
        "evaluation.recorded"
    ]


def test_evidence_for_the_missing_kind_closes_only_that_finding(live, record):
    version = live.version(kinds=())
    freshness_sweep()
    assert set(states(version)) == {"benchmark", "safety", "privacy_review"}

    record(version, "privacy_review")

    assert states(version) == {"benchmark": FindingState.MISSING, "safety": FindingState.MISSING}


def test_evidence_on_a_version_that_is_not_live_opens_nothing(live, record):
    version = live.version(kinds=(), environments=())

    record(version, "benchmark", score=0.1)

    assert not FreshnessFinding.objects.exists()


def test_evidence_on_another_version_leaves_the_live_versions_findings_alone(live, record, stale_benchmark):
    version, finding = stale_benchmark
    draft = live.version(feature=version.feature, kinds=(), environments=())

    record(draft, "benchmark")

    assert fresh(finding).closed_at is None
