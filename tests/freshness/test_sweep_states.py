"""The sweep judges every live version's evidence against its gate: missing, failing (failed or below the
gate's minimum), due soon, stale, or fine. The newest evaluation decides. Findings change state in place
(revision bumped), close when the version leaves, the rule goes or the evidence is fixed, and a second
sweep over an unchanged world changes nothing. Each run is recorded; a run that fails says so and raises."""

from datetime import timedelta

import pytest
from django.utils import timezone

from freshness.choices import CloseReason, FindingState, SweepStatus, SweepTrigger
from freshness.models import FreshnessFinding, SweepRun
from freshness.services import freshness_sweep
from registry.models import AuditEvent, Deployment, Notification
from tests.freshness.world import (
    PRODUCTION_RULES,
    default_gates,  # noqa: F401  (autouse)
    edit_gate,
    evidence,
    fresh,
    live,  # noqa: F401
    make_live,
    open_findings,
    states,
)


def sweep(**kwargs):
    return freshness_sweep(**kwargs)


# --- What each piece of evidence is -----------------------------------------------------------------


def test_fresh_passing_evidence_of_every_required_kind_opens_no_finding(live):
    live.version(regions=("eu", "us"))

    run = sweep()

    assert not FreshnessFinding.objects.exists()
    assert (run.findings_opened, run.open_findings, run.status) == (0, 0, SweepStatus.SUCCEEDED)


def test_a_required_kind_without_any_evaluation_is_missing(live):
    version = live.version(kinds=("benchmark", "safety"))

    sweep()

    [finding] = open_findings()
    assert (finding.version, finding.environment, finding.gate) == (version, "production", "production")
    assert (finding.evidence_kind, finding.state) == ("privacy_review", FindingState.MISSING)
    assert finding.evaluation is None and finding.stale_at is None
    assert finding.max_age_days == 365


def test_a_newest_result_that_failed_its_threshold_is_failing(live):
    version = live.version(kinds=("safety", "privacy_review"))
    failed = evidence(version, "benchmark", score=0.5, threshold=0.8)

    sweep()

    [finding] = open_findings()
    assert (finding.evidence_kind, finding.state, finding.evaluation) == ("benchmark", FindingState.FAILING, failed)
    assert "failed its threshold" in finding.describe()


def test_a_passing_score_below_the_gates_minimum_is_failing(live, governance_admin):
    edit_gate(governance_admin, "production", rules={"benchmark": {"min_score": 0.95}})
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", score=0.92, threshold=0.8)  # passed its own threshold

    sweep()

    [finding] = open_findings()
    assert (finding.evidence_kind, finding.state, finding.min_score) == ("benchmark", FindingState.FAILING, 0.95)
    assert "below the gate's minimum 0.95" in finding.describe()


@pytest.mark.parametrize(
    "age_days, expected",
    [
        (1, None),  # fresh
        (75.5, None),  # stale in 15.5 days: outside the 14 days of due soon
        (77.5, FindingState.DUE_SOON),  # stale in 13.5 days
        (90.5, FindingState.DUE_SOON),  # 90 whole days old is still within a 90-day maximum
        (91.5, FindingState.STALE),  # more than 90 whole days old
        (400, FindingState.STALE),
    ],
)
def test_age_against_the_gates_maximum_decides_due_soon_and_stale(live, age_days, expected):
    version = live.version(kinds=("safety", "privacy_review"))
    benchmark = evidence(version, "benchmark", age_days=age_days)

    sweep()

    assert states(version) == ({"benchmark": expected} if expected else {})
    if expected:
        [finding] = open_findings()
        assert finding.evaluation == benchmark
        assert finding.stale_at == benchmark.run_at + timedelta(days=91)
        assert finding.max_age_days == 90


def test_a_rule_without_a_maximum_age_never_goes_stale_but_can_still_fail(live, governance_admin):
    edit_gate(governance_admin, "production", rules={"privacy_review": {"max_age_days": None}})
    old = live.version(kinds=("benchmark", "safety"))
    evidence(old, "privacy_review", age_days=2000)
    failed = live.version(kinds=("benchmark", "safety"))
    evidence(failed, "privacy_review", age_days=2000, score=0.1)

    sweep()

    assert states(old) == {}
    assert states(failed) == {"privacy_review": FindingState.FAILING}
    assert open_findings(version=failed).get().stale_at is None


def test_every_kind_of_the_gate_is_judged_on_its_own(live):
    version = live.version(kinds=())
    evidence(version, "benchmark", age_days=80)  # due soon
    evidence(version, "safety", age_days=100)  # stale
    # privacy review: none

    sweep()

    assert states(version) == {
        "benchmark": FindingState.DUE_SOON,
        "safety": FindingState.STALE,
        "privacy_review": FindingState.MISSING,
    }


def test_the_newest_evaluation_decides_an_older_pass_does_not_hide_a_newer_failure(live):
    masked = live.version(kinds=("safety", "privacy_review"))
    evidence(masked, "benchmark", age_days=1, score=0.5)  # newest: failed
    evidence(masked, "benchmark", age_days=2, score=0.99)  # older: passed
    recovered = live.version(kinds=("safety", "privacy_review"))
    evidence(recovered, "benchmark", age_days=1, score=0.99)  # newest: passed
    evidence(recovered, "benchmark", age_days=2, score=0.5)  # older: failed

    sweep()

    assert states(masked) == {"benchmark": FindingState.FAILING}
    assert states(recovered) == {}


def test_the_newest_evaluation_is_the_one_that_ran_last_not_the_one_recorded_last(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=1, score=0.99)
    evidence(version, "benchmark", age_days=200, score=0.99)  # an old report filed late

    sweep()

    assert states(version) == {}


def test_versions_that_are_not_live_are_not_checked(live, eu):
    feature = live.feature()
    live.version(feature=feature, kinds=())  # v1, no evidence: was live, replaced below
    current = live.version(feature=feature)  # live now in production/eu, fresh evidence
    live.version(feature=feature, kinds=(), environments=())  # approved somewhere but never live

    sweep()

    assert Deployment.objects.get(feature=feature, region=eu).version == current
    assert not FreshnessFinding.objects.exists()  # neither the replaced version nor the never-live one


def test_one_finding_per_version_environment_and_kind_whatever_the_regions(live):
    version = live.version(kinds=("benchmark", "safety"), regions=("eu", "us"))

    run = sweep()

    assert list(open_findings().values_list("version_id", "environment", "evidence_kind")) == [
        (version.pk, "production", "privacy_review")
    ]
    assert (run.deployments_checked, run.versions_checked) == (2, 1)


def test_each_environment_and_tier_is_judged_by_its_own_gate(live):
    both = live.version(kinds=(), environments=("sandbox", "production"))
    regulated = live.version(kinds=(), risk_tier="regulated")

    sweep()

    assert states(both, "sandbox") == {"safety": FindingState.MISSING}
    assert set(states(both, "production")) == {"benchmark", "safety", "privacy_review"}
    assert set(states(regulated, "production")) == {
        "benchmark",
        "safety",
        "privacy_review",
        "red_team",
        "regional_language",
    }
    assert set(open_findings(version=regulated).values_list("gate", flat=True)) == {"regulated"}
    assert set(open_findings(version=both, environment="sandbox").values_list("gate", flat=True)) == {"sandbox"}


def test_sandbox_evidence_rules_use_the_sandbox_maximum_age(live):
    version = live.version(kinds=(), environments=("sandbox",))
    evidence(version, "safety", age_days=100)  # stale for production (90), fine for sandbox (180)

    sweep()

    assert states(version, "sandbox") == {}


# --- Changing and closing -----------------------------------------------------------------------------


def test_a_state_change_updates_the_same_finding_and_bumps_its_revision(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=80)
    sweep()
    [due] = open_findings()
    assert (due.state, due.revision) == (FindingState.DUE_SOON, 1)

    later = timezone.now() + timedelta(days=12)
    run = sweep(now=later)

    [stale] = open_findings()
    assert stale.pk == due.pk
    assert (stale.state, stale.revision) == (FindingState.STALE, 2)
    assert stale.state_changed_at == later and stale.opened_at == due.opened_at
    assert (run.findings_opened, run.findings_updated, run.findings_closed) == (0, 1, 0)


def test_sweeping_again_over_an_unchanged_world_changes_nothing(live):
    version = live.version(kinds=())
    evidence(version, "benchmark", age_days=80)
    sweep()
    before = list(FreshnessFinding.objects.order_by("pk").values())
    audit_before = AuditEvent.objects.count()
    notices_before = Notification.objects.count()
    assert notices_before > 0

    run = sweep()

    assert list(FreshnessFinding.objects.order_by("pk").values()) == before
    assert (run.findings_opened, run.findings_updated, run.findings_closed, run.notifications) == (0, 0, 0, 0)
    assert run.open_findings == 3
    assert Notification.objects.count() == notices_before
    new_actions = list(AuditEvent.objects.filter(sequence__gt=audit_before).values_list("action", flat=True))
    assert new_actions == ["freshness.sweep_completed"]


def test_a_version_no_longer_live_has_its_findings_closed_as_not_live(live, eu):
    feature = live.feature()
    old = live.version(feature=feature, kinds=("benchmark",))
    sweep()
    assert set(states(old)) == {"safety", "privacy_review"}

    replacement = live.version(feature=feature)  # takes over production/eu
    run = sweep()

    assert not open_findings().exists()
    closed = FreshnessFinding.objects.filter(version=old)
    assert set(closed.values_list("close_reason", flat=True)) == {CloseReason.NOT_LIVE}
    assert all(finding.closed_at is not None and finding.revision == 2 for finding in closed)
    assert (run.findings_closed, run.open_findings) == (2, 0)
    assert Deployment.objects.get(feature=feature, region=eu).version == replacement


def test_a_version_still_live_in_one_region_keeps_its_findings(live, eu, us):
    feature = live.feature()
    old = live.version(feature=feature, kinds=("benchmark", "safety"), regions=("eu", "us"))
    sweep()
    replacement = live.version(feature=feature, kinds=tuple(PRODUCTION_RULES), regions=())
    make_live(replacement, region=eu)  # us still serves the old version

    sweep()

    assert states(old) == {"privacy_review": FindingState.MISSING}


def test_a_kind_the_gate_no_longer_requires_closes_as_rule_removed(live, governance_admin):
    version = live.version(kinds=("benchmark", "safety"))
    sweep()
    [finding] = open_findings()

    edit_gate(governance_admin, "production", drop=("privacy_review",))
    sweep()

    finding = fresh(finding)
    assert (finding.closed_at is not None, finding.close_reason) == (True, CloseReason.RULE_REMOVED)
    assert not open_findings(version=version).exists()


def test_fixed_evidence_closes_the_finding_as_fresh(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=120)
    sweep()
    [finding] = open_findings()

    fixed = evidence(version, "benchmark", age_days=0.01)
    sweep()

    finding = fresh(finding)
    assert finding.close_reason == CloseReason.FRESH and finding.closed_at is not None
    assert finding.evaluation == fixed
    assert not finding.blocks_promotions


def test_evidence_going_bad_again_opens_a_new_finding_beside_the_closed_one(live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=120)
    sweep()
    evidence(version, "benchmark", age_days=0.01)
    sweep()

    evidence(version, "benchmark", age_days=0.001, score=0.1)
    sweep()

    findings = FreshnessFinding.objects.filter(version=version).order_by("pk")
    assert [(f.state, f.close_reason) for f in findings] == [
        (FindingState.STALE, CloseReason.FRESH),
        (FindingState.FAILING, ""),
    ]


def test_a_raised_maximum_age_turns_a_stale_finding_fresh(live, governance_admin):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=120)
    sweep()

    edit_gate(governance_admin, "production", rules={"benchmark": {"max_age_days": 365}})
    sweep()

    assert states(version) == {}
    assert FreshnessFinding.objects.get(version=version).close_reason == CloseReason.RULE_RELAXED


# --- The run record -----------------------------------------------------------------------------------


def test_each_run_is_recorded_with_what_it_checked_and_changed(live, governance_admin):
    closing = live.version(kinds=("safety", "privacy_review"))
    evidence(closing, "benchmark", age_days=120)  # stale; fixed below
    changing = live.version(kinds=("safety", "privacy_review"), regions=("eu", "us"))
    evidence(changing, "benchmark", age_days=80)  # due soon; goes stale below
    staying = live.version(kinds=("benchmark", "safety"))  # privacy review missing throughout
    first = sweep(trigger=SweepTrigger.MANUAL, requested_by=governance_admin, task_id="task-1")
    assert (first.findings_opened, first.findings_updated, first.findings_closed, first.open_findings) == (3, 0, 0, 3)
    assert (first.deployments_checked, first.versions_checked) == (4, 3)

    evidence(closing, "benchmark", age_days=0.01)
    newcomer = live.version(kinds=("benchmark", "privacy_review"))  # safety missing
    run = sweep(now=timezone.now() + timedelta(days=12))

    run = SweepRun.objects.get(pk=run.pk)
    assert run.status == SweepStatus.SUCCEEDED and run.error == ""
    assert run.trigger == SweepTrigger.SCHEDULE and run.requested_by is None
    assert (run.deployments_checked, run.versions_checked) == (5, 4)
    assert (run.findings_opened, run.findings_updated, run.findings_closed, run.open_findings) == (1, 1, 1, 3)
    assert run.started_at <= run.finished_at
    assert states(staying) == {"privacy_review": FindingState.MISSING}
    assert states(newcomer) == {"safety": FindingState.MISSING}
    assert states(changing) == {"benchmark": FindingState.STALE}
    first = SweepRun.objects.get(pk=first.pk)
    assert (first.trigger, first.requested_by, first.task_id) == (SweepTrigger.MANUAL, governance_admin, "task-1")


def test_a_failing_run_is_recorded_as_failed_and_the_error_propagates(live, monkeypatch):
    live.version(kinds=())

    def broken(entries):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr("freshness.services.audit_record_many", broken)
    with pytest.raises(RuntimeError, match="audit store unavailable"):
        sweep(trigger=SweepTrigger.MANUAL)

    [run] = SweepRun.objects.all()
    assert run.status == SweepStatus.FAILED
    assert run.error == "RuntimeError: audit store unavailable"
    assert run.trigger == SweepTrigger.MANUAL
    # The run's writes are one transaction with their audit: nothing was half-written.
    assert not FreshnessFinding.objects.exists()
    assert not Notification.objects.exists()


def test_after_a_failed_run_the_next_one_does_the_work(live, monkeypatch):
    live.version(kinds=("benchmark", "safety"))
    with monkeypatch.context() as patched:
        patched.setattr("freshness.services.audit_record_many", lambda entries: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            sweep()

    run = sweep()

    assert run.findings_opened == 1
    assert list(SweepRun.objects.order_by("pk").values_list("status", flat=True)) == [
        SweepStatus.FAILED,
        SweepStatus.SUCCEEDED,
    ]


def test_a_feature_raised_to_regulated_is_judged_by_the_regulated_gate_next_sweep(live, governance_admin):
    from registry.services import feature_update

    version = live.version(risk_tier="high", kinds=("benchmark", "privacy_review"))
    evidence(version, "safety", age_days=100)
    sweep()
    [stale] = open_findings()
    assert stale.gate == "production"

    feature_update(
        actor=governance_admin, feature=version.feature, reason="Now decides claims payouts.", risk_tier="regulated"
    )
    sweep()

    assert states(version) == {
        "safety": FindingState.STALE,
        "red_team": FindingState.MISSING,
        "regional_language": FindingState.MISSING,
    }
    stale = fresh(stale)
    assert (stale.closed_at, stale.gate, stale.revision) == (None, "regulated", 1)
