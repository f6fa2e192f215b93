"""What a finding does. Stale, failing or missing evidence of a version live in production refuses new
promotions of its feature, naming the evidence; rollbacks stay allowed, and rolling back away from the
version lifts the block at once. Due-soon and sandbox findings block nothing. Past the gate's grace period
a blocking finding opens one SEV3 governance incident (source: freshness), whose owner is told; more
sweeps and more findings join it rather than open another. Every step is audited."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.services import promotion_execute
from core.exceptions import Conflict
from freshness.choices import FindingState
from freshness.models import FreshnessFinding, blocking_condition
from freshness.services import findings_escalate, freshness_sweep
from incidents.choices import IncidentSource
from incidents.models import Incident
from registry.extensions import promotion_blockers
from registry.models import AuditEvent, Deployment, DeploymentEvent, Evaluation, Notification
from registry.services import audit_verify, deployment_rollback
from tests.approvals.conftest import (  # the approvals world: real gates, sign-offs and promotions
    approved_request,
    go_live,
    new_version,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
)
from tests.factories import FeatureFactory, UserFactory
from tests.freshness.world import days_ago, default_gates, edit_gate, fresh, open_findings, states  # noqa: F401

__all__ = [  # fixtures used by name
    "approved_request",
    "go_live",
    "new_version",
    "pins",
    "record_evidence",
    "request_gate",
    "reviewers",
    "second_ml_engineer",
    "second_security_reviewer",
    "sign_all",
]


@pytest.fixture
def on_call(db):
    return UserFactory(username="oona-oncall")


@pytest.fixture
def feature(team, product_owner, on_call, eu, us):
    return FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        incident_owner=on_call,
        rollback_path="Point the flag back at the previous version.",
        monitors="https://grafana.example.test/d/claims-triage",
        slos="p95 under 2s",
        regions=[eu, us],
    )


def age(version, kind, days):
    """Time passes for a version's evidence of ``kind``: it ran ``days`` ago."""
    assert Evaluation.objects.filter(version=version, kind=kind).update(run_at=days_ago(days))


def live_numbers(feature):
    return sorted(
        Deployment.objects.filter(feature=feature, environment="production").values_list(
            "region__code", "version__number"
        )
    )


@pytest.fixture
def v1_live_v2_approved(releases, new_version, approved_request):
    [v1] = releases(1)
    v2 = new_version(summary="Release 2.")
    return v1, v2, approved_request(v2)


# --- Blocking promotions ---------------------------------------------------------------------------


def make_stale(v1, **_):
    age(v1, "benchmark", 100)


def make_failing(v1, record_evidence, **_):
    record_evidence(v1, ("benchmark",), score=0.4, run_at=days_ago(0, hours=2))


def make_missing(v1, governance_admin, **_):
    edit_gate(governance_admin, "production", rules={"bias": {"max_age_days": 90}})  # v1 has no bias evaluation


@pytest.mark.parametrize(
    "make_bad, state, kind",
    [(make_stale, "stale", "Benchmark"), (make_failing, "failing", "Benchmark"), (make_missing, "missing", "Bias")],
)
def test_bad_production_evidence_refuses_promotion_naming_the_evidence(
    v1_live_v2_approved,
    feature,
    product_owner,
    governance_admin,
    record_evidence,
    approved_request,
    make_bad,
    state,
    kind,
):
    v1, v2, _production = v1_live_v2_approved
    approval = approved_request(v2, environment="sandbox")  # not a fix of production: blocked
    make_bad(v1, record_evidence=record_evidence, governance_admin=governance_admin)
    freshness_sweep()

    with pytest.raises(Conflict) as refused:
        promotion_execute(actor=product_owner, request=approval)

    message = refused.value.message
    assert f"Production {kind.lower()} evidence of v{v1.number} is {state}" in message
    assert kind.lower() in message.lower()
    assert "Rollbacks stay allowed" in message
    assert live_numbers(feature) == [("eu", 1), ("us", 1)]
    assert not DeploymentEvent.objects.filter(approval_request_id=approval.pk).exists()


def test_the_fix_forward_is_never_blocked_and_closes_the_bad_versions_findings(
    v1_live_v2_approved, feature, product_owner, django_capture_on_commit_callbacks
):
    v1, v2, approval = v1_live_v2_approved
    age(v1, "safety", 120)
    freshness_sweep()
    assert promotion_blockers(feature), "v1's stale evidence blocks promotions in general"
    assert promotion_blockers(feature, version=v1, environment="production"), "more of v1 stays blocked"
    assert promotion_blockers(feature, version=v2, environment="production") == []

    with django_capture_on_commit_callbacks(execute=True):
        promotion_execute(actor=product_owner, request=approval)

    assert live_numbers(feature) == [("eu", 2), ("us", 2)]
    assert promotion_blockers(feature) == []  # at once: v1's findings closed when it stopped serving
    assert set(FreshnessFinding.objects.filter(version=v1).values_list("close_reason", flat=True)) == {"not_live"}


def test_the_block_is_listed_among_the_features_promotion_blockers(v1_live_v2_approved, feature):
    v1, _v2, _approval = v1_live_v2_approved
    assert promotion_blockers(feature) == []

    age(v1, "safety", 120)
    freshness_sweep()

    [reason] = promotion_blockers(feature)
    assert reason.startswith(f"Production safety evidence of v{v1.number} is stale")
    assert "safety" in reason.lower()


def test_rollback_is_still_allowed_while_promotions_are_blocked(releases, feature, ml_engineer, eu):
    v1, v2 = releases(2)
    age(v2, "benchmark", 100)
    freshness_sweep()
    assert promotion_blockers(feature)

    event = deployment_rollback(
        actor=ml_engineer,
        feature=feature,
        environment="production",
        region=eu,
        reason="Stale benchmark on v2: back to v1.",
    )

    assert (event.from_version, event.to_version) == (v2, v1)
    assert live_numbers(feature) == [("eu", 1), ("us", 2)]


def test_rolling_back_away_from_the_stale_version_everywhere_lifts_the_block(
    releases, new_version, approved_request, feature, ml_engineer, product_owner, eu, us
):
    v1, v2 = releases(2)
    age(v2, "benchmark", 100)
    freshness_sweep()
    v3 = new_version(summary="Release 3.")
    approval = approved_request(v3)

    deployment_rollback(actor=ml_engineer, feature=feature, environment="production", region=eu, reason="Stale.")
    assert promotion_blockers(feature), "v2 still serves us"

    deployment_rollback(actor=ml_engineer, feature=feature, environment="production", region=us, reason="Stale.")
    assert promotion_blockers(feature) == []  # at once, before any sweep
    promotion_execute(actor=product_owner, request=approval)
    assert live_numbers(feature) == [("eu", 3), ("us", 3)]

    freshness_sweep()
    assert set(FreshnessFinding.objects.filter(version=v2).values_list("close_reason", flat=True)) == {"not_live"}


def test_rolling_back_to_a_version_with_stale_evidence_blocks_at_once_without_a_sweep(
    releases, feature, ml_engineer, eu, us, django_capture_on_commit_callbacks
):
    v1, v2 = releases(2)
    age(v1, "benchmark", 100)  # v1's evidence went stale while v2 served
    freshness_sweep()
    assert promotion_blockers(feature) == []

    with django_capture_on_commit_callbacks(execute=True):
        deployment_rollback(
            actor=ml_engineer,
            feature=feature,
            environment="production",
            region=eu,
            reason="v2 misroutes claims: back to v1.",
        )

    assert states(v1) == {"benchmark": FindingState.STALE}
    [reason] = promotion_blockers(feature)
    assert reason.startswith("Production benchmark evidence of v1 is stale")
    opened = AuditEvent.objects.filter(action="freshness_finding.opened").latest("sequence")
    assert (opened.actor, opened.payload["trigger"]) == (ml_engineer, "deployment")


def test_a_version_that_stops_serving_has_its_findings_closed_at_once(
    releases, new_version, approved_request, feature, product_owner, django_capture_on_commit_callbacks
):
    (v1,) = releases(1)
    age(v1, "benchmark", 80)  # due soon: does not block
    freshness_sweep()
    assert states(v1) == {"benchmark": FindingState.DUE_SOON}
    v2 = new_version(summary="Release 2.")

    with django_capture_on_commit_callbacks(execute=True):
        promotion_execute(actor=product_owner, request=approved_request(v2))

    assert set(FreshnessFinding.objects.filter(version=v1).values_list("close_reason", flat=True)) == {"not_live"}
    assert not FreshnessFinding.objects.filter(version=v1, closed_at__isnull=True).exists()


def test_due_soon_evidence_blocks_once_its_stale_date_passes_even_before_the_next_sweep(v1_live_v2_approved, feature):
    v1, _v2, _approval = v1_live_v2_approved
    age(v1, "benchmark", 80)
    freshness_sweep()
    assert states(v1) == {"benchmark": FindingState.DUE_SOON} and promotion_blockers(feature) == []

    FreshnessFinding.objects.filter(version=v1).update(stale_at=days_ago(0, hours=1))  # the date passes

    [reason] = promotion_blockers(feature)
    assert reason.startswith("Production benchmark evidence of v1 is stale")
    finding = FreshnessFinding.objects.get(version=v1)
    assert finding.blocks_promotions  # the pages and the API say so too
    assert FreshnessFinding.objects.filter(blocking_condition(timezone.now()), pk=finding.pk).exists()


def test_due_soon_evidence_does_not_block(v1_live_v2_approved, feature, product_owner):
    v1, v2, approval = v1_live_v2_approved
    age(v1, "benchmark", 80)
    freshness_sweep()
    assert states(v1) == {"benchmark": FindingState.DUE_SOON}

    assert promotion_blockers(feature) == []
    promotion_execute(actor=product_owner, request=approval)
    assert live_numbers(feature) == [("eu", 2), ("us", 2)]


def test_sandbox_findings_do_not_block(new_version, approved_request, product_owner, feature, go_live, eu, us):
    v1 = new_version(summary="Sandbox trial.")
    promotion_execute(actor=product_owner, request=approved_request(v1, environment="sandbox"))
    age(v1, "safety", 200)  # over the sandbox gate's 180 days
    freshness_sweep()
    assert states(v1, "sandbox") == {"safety": FindingState.STALE}

    assert promotion_blockers(feature) == []
    go_live(new_version(summary="To production."))
    assert live_numbers(feature) == [("eu", 2), ("us", 2)]


def test_new_fresh_evidence_for_the_live_version_lifts_the_block(
    v1_live_v2_approved, feature, product_owner, record_evidence, django_capture_on_commit_callbacks
):
    v1, _v2, approval = v1_live_v2_approved
    age(v1, "benchmark", 100)
    freshness_sweep()
    assert promotion_blockers(feature)

    with django_capture_on_commit_callbacks(execute=True):
        record_evidence(v1, ("benchmark",), run_at=days_ago(0, hours=1))

    assert promotion_blockers(feature) == []
    promotion_execute(actor=product_owner, request=approval)
    assert live_numbers(feature) == [("eu", 2), ("us", 2)]


# --- Escalation -----------------------------------------------------------------------------------------


def sweep_and_run_tasks(django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        return freshness_sweep(**kwargs)


def freshness_incidents(feature):
    return Incident.objects.filter(feature=feature, source=IncidentSource.FRESHNESS)


def test_with_no_grace_a_blocking_production_finding_opens_one_governance_incident(
    releases, feature, on_call, governance_admin, django_capture_on_commit_callbacks
):
    edit_gate(governance_admin, "production", escalation_grace_days=0)
    [v1] = releases(1)
    age(v1, "benchmark", 100)

    run = sweep_and_run_tasks(django_capture_on_commit_callbacks)

    [incident] = freshness_incidents(feature)
    assert run.escalations == 1
    assert (incident.severity, incident.environment, incident.region.code) == ("sev3", "production", "eu")
    assert incident.owner == on_call
    assert incident.reporter.username == "gatehouse" and not incident.reporter.is_active
    assert incident.live_version == v1
    assert "benchmark" in incident.description.lower()
    [finding] = open_findings(version=v1)
    assert finding.incident_id == incident.pk
    assert Notification.objects.filter(user=on_call, key=f"incident-opened:{incident.pk}").count() == 1
    escalated = AuditEvent.objects.get(action="freshness_finding.escalated")
    assert (escalated.object_id, escalated.actor_name) == (str(finding.pk), "system")
    assert escalated.payload["incident"] == incident.reference
    assert AuditEvent.objects.filter(action="incident.opened", object_id=str(incident.pk)).count() == 1

    again = sweep_and_run_tasks(django_capture_on_commit_callbacks)
    assert again.escalations == 0
    assert freshness_incidents(feature).count() == 1
    assert findings_escalate(feature_id=feature.pk) is None
    assert AuditEvent.objects.filter(action="freshness_finding.escalated").count() == 1
    assert audit_verify().ok


def test_escalation_waits_for_the_grace_period(releases, feature, django_capture_on_commit_callbacks):
    [v1] = releases(1)
    age(v1, "benchmark", 100)
    sweep_and_run_tasks(django_capture_on_commit_callbacks)  # blocking from now; the shipped grace is 7 days
    [finding] = open_findings(version=v1)
    assert finding.blocking_since is not None

    assert findings_escalate(feature_id=feature.pk, now=timezone.now() + timedelta(days=6)) is None
    assert not freshness_incidents(feature).exists()

    incident = findings_escalate(feature_id=feature.pk, now=timezone.now() + timedelta(days=8))

    assert incident is not None and incident.source == IncidentSource.FRESHNESS
    assert incident.impact_start == finding.blocking_since
    assert fresh(finding).incident_id == incident.pk
    assert findings_escalate(feature_id=feature.pk, now=timezone.now() + timedelta(days=9)) is None
    assert freshness_incidents(feature).count() == 1


def test_a_later_blocking_finding_joins_the_open_governance_incident(
    releases, feature, governance_admin, django_capture_on_commit_callbacks
):
    edit_gate(governance_admin, "production", escalation_grace_days=0)
    [v1] = releases(1)
    age(v1, "benchmark", 100)
    sweep_and_run_tasks(django_capture_on_commit_callbacks)
    [incident] = freshness_incidents(feature)

    age(v1, "safety", 100)
    sweep_and_run_tasks(django_capture_on_commit_callbacks)

    assert freshness_incidents(feature).count() == 1
    assert set(open_findings(version=v1).values_list("evidence_kind", "incident_id")) == {
        ("benchmark", incident.pk),
        ("safety", incident.pk),
    }


def test_due_soon_and_sandbox_findings_never_escalate(
    new_version, approved_request, go_live, product_owner, feature, governance_admin, django_capture_on_commit_callbacks
):
    for gate in ("production", "sandbox"):
        edit_gate(governance_admin, gate, escalation_grace_days=0)
    v1 = new_version(summary="Sandbox trial.")
    promotion_execute(actor=product_owner, request=approved_request(v1, environment="sandbox"))
    age(v1, "safety", 200)
    v2 = new_version(summary="To production.")
    go_live(v2)
    age(v2, "benchmark", 80)

    run = sweep_and_run_tasks(django_capture_on_commit_callbacks)

    assert states(v1, "sandbox") == {"safety": FindingState.STALE}
    assert states(v2) == {"benchmark": FindingState.DUE_SOON}
    assert run.escalations == 0
    assert not freshness_incidents(feature).exists()
    assert not FreshnessFinding.objects.filter(blocking_since__isnull=False).exists()


def test_a_sweep_past_the_grace_period_escalates_through_its_task(
    releases, feature, django_capture_on_commit_callbacks
):
    [v1] = releases(1)
    age(v1, "benchmark", 100)
    sweep_and_run_tasks(django_capture_on_commit_callbacks)  # blocking from now; the shipped grace is 7 days

    run = sweep_and_run_tasks(django_capture_on_commit_callbacks, now=timezone.now() + timedelta(days=8))

    assert run.escalations == 1
    assert freshness_incidents(feature).count() == 1
