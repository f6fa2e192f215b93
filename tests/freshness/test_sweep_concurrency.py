"""Sweeps racing each other (beat and a manual run, or a task redelivered while the first still runs) leave
one set of findings, tell each person once, email each person once and record every run; a sweep committing
while evidence is recorded for the same version completes, and the evidence's verdict stands. Needs
PostgreSQL: SQLite serialises writers and has no row locks."""

import threading

import pytest
from django.db import transaction

from freshness.choices import FindingState, SweepStatus
from freshness.models import FreshnessFinding, SweepLock, SweepRun
from freshness.services import freshness_sweep
from registry.models import Notification
from registry.services import audit_verify, evaluation_record
from tests.concurrency import run_at_once
from tests.freshness.world import days_ago, default_gates, evidence, live  # noqa: F401  (default_gates: autouse)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_features(live, other_team, other_product_owner, ml_engineer):
    """Claims (product owner + ML engineer) missing privacy review, stale on safety; payments missing everything."""
    claims = live.version(kinds=("benchmark",))
    evidence(claims, "safety", age_days=120)
    payments = live.version(kinds=(), team=other_team, owner=other_product_owner)
    return claims, payments


def notices_per_user():
    counts = {}
    for username in Notification.objects.filter(key__startswith="freshness:").values_list("user__username", flat=True):
        counts[username] = counts.get(username, 0) + 1
    return counts


@pytest.mark.parametrize("count", [2, 6])
def test_sweeps_at_the_same_moment_open_one_set_of_findings_and_tell_everyone_once(two_features, mailoutbox, count):
    claims, payments = two_features

    outcomes = run_at_once(count, lambda index: freshness_sweep())

    assert [type(outcome).__name__ for outcome in outcomes] == ["SweepRun"] * count, outcomes
    assert FreshnessFinding.objects.filter(version=claims).count() == 2
    assert FreshnessFinding.objects.filter(version=payments).count() == 3
    assert notices_per_user() == {"pat-product": 1, "mel-ml": 1, "otto-product": 1}
    assert sorted(message.to[0] for message in mailoutbox) == [
        "mel-ml@example.test",
        "otto-product@example.test",
        "pat-product@example.test",
    ]
    runs = list(SweepRun.objects.values_list("status", "findings_opened", "notifications"))
    assert len(runs) == count and {status for status, _, _ in runs} == {SweepStatus.SUCCEEDED}
    assert sorted(opened for _, opened, _ in runs) == [0] * (count - 1) + [5]
    assert audit_verify().ok


def test_sweeps_racing_on_a_fresh_database_without_the_lock_row_still_serialise(two_features, mailoutbox):
    SweepLock.objects.all().delete()

    outcomes = run_at_once(4, lambda index: freshness_sweep())

    assert [type(outcome).__name__ for outcome in outcomes] == ["SweepRun"] * 4, outcomes
    assert FreshnessFinding.objects.count() == 5
    assert notices_per_user() == {"pat-product": 1, "mel-ml": 1, "otto-product": 1}
    assert len(mailoutbox) == 3


def test_a_sweep_committing_findings_while_evidence_is_recorded_for_that_version_does_not_deadlock(
    live, ml_engineer, monkeypatch
):
    """The moment the sweep commits new findings (its audit chain lock held) an ML engineer is recording
    evidence for the same version (its row locked, waiting for the audit chain). Both must complete."""
    import registry.services.versions as versions_module
    from freshness import services as freshness_services
    from registry.services import audit_record

    version = live.version(kinds=("benchmark", "safety"))  # privacy review missing: the sweep opens a finding
    with transaction.atomic():
        audit_record(actor=None, action="test.chain_started", object_type="test", object_id=1)  # the chain head row
    recording_holds_the_version, sweep_holds_the_chain = threading.Event(), threading.Event()
    real_audit_record, real_audit_record_many = versions_module.audit_record, freshness_services.audit_record_many

    def audit_record_after_the_sweep_locks_the_chain(**kwargs):
        recording_holds_the_version.set()  # evaluation_record has locked the version row by now
        sweep_holds_the_chain.wait(timeout=5)  # with the fix the sweep waits for us instead
        return real_audit_record(**kwargs)

    def audit_record_many_then_say_so(entries):
        events = real_audit_record_many(entries)
        sweep_holds_the_chain.set()
        return events

    monkeypatch.setattr(versions_module, "audit_record", audit_record_after_the_sweep_locks_the_chain)
    monkeypatch.setattr(freshness_services, "audit_record_many", audit_record_many_then_say_so)

    def work(index):
        if index == 0:
            assert recording_holds_the_version.wait(timeout=10)
            return freshness_sweep()
        return evaluation_record(
            actor=ml_engineer,
            version=version,
            kind="privacy_review",
            suite="dpia",
            metric="score",
            score=0.9,
            threshold=0.8,
            run_at=days_ago(0, hours=1),
        )

    outcomes = run_at_once(2, work)

    assert not [outcome for outcome in outcomes if isinstance(outcome, BaseException)], outcomes
    assert not FreshnessFinding.objects.filter(closed_at__isnull=True).exists()
    assert audit_verify().ok
