"""Every change the sweep makes is in the audit trail: each finding opened, changed, closed or escalated has
its own event (object: the finding, feature: its feature, old -> new state), each run a completion event;
and the chain still verifies after the bulk appends, interleaved with ordinary single-event writes."""

from datetime import timedelta

from django.utils import timezone

from freshness.choices import SweepTrigger
from freshness.models import FreshnessFinding
from freshness.services import findings_escalate, freshness_sweep
from freshness.tasks import evidence_freshness_sweep
from registry.models import AuditEvent
from registry.services import audit_verify, evaluation_record
from tests.freshness.world import days_ago, default_gates, evidence, live  # noqa: F401  (default_gates: autouse)


def events(action, **filters):
    return list(AuditEvent.objects.filter(action=action, **filters).order_by("sequence"))


def test_opening_findings_writes_one_event_each_and_one_for_the_run(live):
    version = live.version(kinds=("benchmark",))
    evidence(version, "safety", age_days=100)

    run = freshness_sweep()

    opened = events("freshness_finding.opened")
    findings = {f.pk: f for f in FreshnessFinding.objects.all()}
    assert sorted(int(event.object_id) for event in opened) == sorted(findings)
    for event in opened:
        finding = findings[int(event.object_id)]
        assert event.object_type == "freshnessfinding"
        assert event.feature_id == version.feature_id
        assert event.actor_name == "system"
        assert event.payload["state"] == finding.state
        assert event.payload["evidence_kind"] == finding.evidence_kind
        assert event.payload["version_id"] == version.pk
        assert event.payload["sweep_run"] == run.pk
    [completed] = events("freshness.sweep_completed")
    assert (completed.object_type, completed.object_id) == ("sweeprun", str(run.pk))
    assert completed.payload["opened"] == 2 and completed.payload["open"] == 2
    assert completed.sequence > max(event.sequence for event in opened)


def test_a_state_change_and_a_close_are_audited_with_old_and_new(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=80)
    freshness_sweep()
    [finding] = FreshnessFinding.objects.all()

    freshness_sweep(now=timezone.now() + timedelta(days=12))
    evidence(version, "benchmark", age_days=0.01)
    freshness_sweep(now=timezone.now() + timedelta(days=12))

    [changed] = events("freshness_finding.changed", object_id=str(finding.pk))
    assert changed.payload["state"] == ["due_soon", "stale"] and changed.payload["revision"] == 2
    [closed] = events("freshness_finding.closed", object_id=str(finding.pk))
    assert closed.payload["state"] == ["stale", None]
    assert closed.payload["close_reason"] == "fresh" and closed.payload["revision"] == 3


def test_escalation_is_audited_per_finding(live):
    version = live.version(kinds=("privacy_review",))
    freshness_sweep()  # benchmark and safety missing, blocking from now

    incident = findings_escalate(feature_id=version.feature_id, now=timezone.now() + timedelta(days=8))

    escalated = events("freshness_finding.escalated")
    assert sorted(int(event.object_id) for event in escalated) == sorted(
        FreshnessFinding.objects.values_list("pk", flat=True)
    )
    assert {event.payload["incident"] for event in escalated} == {incident.reference}
    assert {event.payload["state"] for event in escalated} == {"missing"}


def test_a_run_by_the_task_is_attributed_to_the_task_and_a_manual_run_to_its_requester(live, governance_admin):
    live.version(kinds=("benchmark", "safety"))

    evidence_freshness_sweep.delay()
    freshness_sweep(trigger=SweepTrigger.MANUAL, requested_by=governance_admin)

    by_task, by_person = events("freshness.sweep_completed")
    assert (by_task.source, by_task.actor_name) == ("task", "system")
    [opened] = events("freshness_finding.opened")
    assert opened.source == "task"
    assert by_person.actor == governance_admin and by_person.payload["trigger"] == "manual"


def test_the_chain_verifies_after_bulk_sweeps_between_ordinary_writes(
    live, ml_engineer, django_capture_on_commit_callbacks
):
    versions = [live.version(kinds=()) for _ in range(4)]
    freshness_sweep()
    for version in versions[:2]:
        with django_capture_on_commit_callbacks(execute=True):  # one event, then the recheck's bulk append
            evaluation_record(
                actor=ml_engineer,
                version=version,
                kind="benchmark",
                suite="s",
                metric="m",
                score=0.9,
                threshold=0.8,
                run_at=days_ago(0, hours=1),
            )
    freshness_sweep(now=timezone.now() + timedelta(days=1))
    freshness_sweep()

    verification = audit_verify()

    assert verification.ok, verification
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    assert AuditEvent.objects.filter(action__startswith="freshness_finding.").count() == 12 + 2  # opened, closed


def test_tampering_with_a_bulk_appended_event_is_detected(live, tamper):
    live.version(kinds=())
    freshness_sweep()
    victim = AuditEvent.objects.filter(action="freshness_finding.opened").order_by("sequence")[1]

    AuditEvent.objects.filter(pk=victim.pk).update(payload={**victim.payload, "state": "fresh"})

    verification = audit_verify()
    assert not verification.ok
    assert verification.broken_sequence == victim.sequence
