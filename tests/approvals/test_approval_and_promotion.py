"""A request is approved exactly when every sign-off, the evidence and the readiness hold; promotion uses
a live approval to flip every region's pointer with history and audit, and refuses, saying why, otherwise."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from approvals.choices import RequestStatus
from approvals.services import approval_request_recheck, approvals_expire, promotion_execute, signoff_decide
from core.exceptions import Conflict
from registry.models import AuditEvent, Deployment, DeploymentEvent, Evaluation
from registry.services import audit_verify, feature_update
from tests.approvals.conftest import days_ago, fresh, pending_signoff
from tests.factories import FeatureFactory


def live_versions(feature, environment="production"):
    return dict(
        Deployment.objects.filter(feature=feature, environment=environment).values_list(
            "region__code", "version__number"
        )
    )


def history(feature):
    return list(
        DeploymentEvent.objects.filter(feature=feature)
        .order_by("region__code", "id")
        .values_list("region__code", "kind", "from_version__number", "to_version__number")
    )


# --- When a request is approved -----------------------------------------------------------------


def test_a_request_is_approved_when_the_last_sign_off_arrives_and_everything_holds(
    reviewers, new_version, record_evidence, request_gate
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)

    order = ["security", "legal", "product", "ml"]
    for role in order:
        assert fresh(request).status == RequestStatus.PENDING
        signoff_decide(actor=reviewers[role][0], signoff=pending_signoff(request, role), decision="approve")

    approved = fresh(request)
    assert approved.status == RequestStatus.APPROVED
    assert approved.expires_at == approved.decided_at + timedelta(days=14)
    event = AuditEvent.objects.get(action="approval.approved", object_id=str(request.pk))
    assert event.actor == reviewers["ml"][0]
    assert event.payload["status"] == ["pending", "approved"]
    assert set(event.payload["evidence"]) == {"benchmark", "safety", "privacy_review"}


def test_with_every_sign_off_in_but_evidence_missing_it_waits_and_new_evidence_approves_it(
    ml_engineer, new_version, record_evidence, request_gate, sign_all, django_capture_on_commit_callbacks
):
    version = new_version()
    record_evidence(version, kinds=["benchmark", "safety"])
    request = sign_all(request_gate(version))
    assert request.status == RequestStatus.PENDING
    assert not AuditEvent.objects.filter(action="approval.approved").exists()

    with django_capture_on_commit_callbacks(execute=True):  # as when the evidence's transaction commits
        record_evidence(version, kinds=["privacy_review"])

    approved = fresh(request)
    assert approved.status == RequestStatus.APPROVED
    event = AuditEvent.objects.get(action="approval.approved", object_id=str(request.pk))
    assert event.actor is None and event.actor_name == "system"  # the system concluded it, not the evidence's author
    recorded = AuditEvent.objects.get(action="evaluation.recorded", payload__kind="privacy_review")
    assert event.sequence > recorded.sequence


def test_failing_or_stale_evidence_keeps_a_signed_request_pending(
    new_version, record_evidence, request_gate, sign_all, django_capture_on_commit_callbacks
):
    version = new_version()
    record_evidence(version, kinds=["benchmark"], score=0.5)  # below its threshold
    record_evidence(version, kinds=["safety"], run_at=days_ago(91))  # older than the gate's 90 days
    record_evidence(version, kinds=["privacy_review"])

    request = sign_all(request_gate(version))

    assert request.status == RequestStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        record_evidence(version, kinds=["benchmark"])
    assert fresh(request).status == RequestStatus.PENDING  # safety is still stale
    with django_capture_on_commit_callbacks(execute=True):
        record_evidence(version, kinds=["safety"])
    assert fresh(request).status == RequestStatus.APPROVED


def test_missing_readiness_keeps_a_signed_request_pending_until_it_is_in_place(
    team, product_owner, eu, new_version, record_evidence, request_gate, sign_all
):
    unmonitored = FeatureFactory(
        slug="claims-summary",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        rollback_path="",
        monitors="",
        regions=[eu],
    )
    version = new_version(target=unmonitored)
    record_evidence(version)
    request = sign_all(request_gate(version, regions=[eu]))
    assert request.status == RequestStatus.PENDING

    feature_update(
        actor=product_owner,
        feature=unmonitored,
        reason="Runbook and dashboard written.",
        rollback_path="Flag back to the previous version.",
        monitors="https://grafana.example.test/d/x",
    )
    assert approval_request_recheck(request=request, actor=product_owner) is True

    assert fresh(request).status == RequestStatus.APPROVED


def test_writing_down_the_missing_readiness_approves_a_signed_request(
    team, product_owner, eu, new_version, record_evidence, request_gate, sign_all, django_capture_on_commit_callbacks
):
    unmonitored = FeatureFactory(
        slug="claims-summary-2",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        rollback_path="Flag back to the previous version.",
        monitors="",
        regions=[eu],
    )
    version = new_version(target=unmonitored)
    record_evidence(version)
    request = sign_all(request_gate(version, regions=[eu]))
    assert request.status == RequestStatus.PENDING

    with django_capture_on_commit_callbacks(execute=True):
        feature_update(
            actor=product_owner,
            feature=unmonitored,
            reason="Dashboard is up.",
            monitors="https://grafana.example.test/d/claims-summary",
        )

    assert fresh(request).status == RequestStatus.APPROVED


# --- Promotion ------------------------------------------------------------------------------------


def test_promotion_makes_the_version_live_in_every_region_with_history_and_audit(
    product_owner, feature, new_version, approved_request
):
    version = new_version()
    request = approved_request(version)

    events = promotion_execute(actor=product_owner, request=request)

    assert len(events) == 2
    assert live_versions(feature) == {"eu": 1, "us": 1}
    assert history(feature) == [("eu", "promoted", None, 1), ("us", "promoted", None, 1)]
    assert {event.approval_request_id for event in events} == {request.pk}
    assert {event.actor_id for event in events} == {product_owner.pk}
    audits = AuditEvent.objects.filter(action="deployment.promoted").order_by("sequence")
    assert [(a.payload["region"], a.payload["from_version"], a.payload["to_version"]) for a in audits] == [
        ("eu", None, 1),
        ("us", None, 1),
    ]
    assert {a.payload["approval_request"] for a in audits} == {request.pk}
    assert all(a.feature_id == feature.pk and a.actor == product_owner for a in audits)
    assert audit_verify().ok


def test_promoting_the_next_version_records_the_step_from_the_previous_one(
    product_owner, feature, new_version, go_live, approved_request
):
    go_live(new_version())
    second = approved_request(new_version(summary="Shorter answers."))

    promotion_execute(actor=product_owner, request=second)

    assert live_versions(feature) == {"eu": 2, "us": 2}
    assert history(feature) == [
        ("eu", "promoted", None, 1),
        ("eu", "promoted", 1, 2),
        ("us", "promoted", None, 1),
        ("us", "promoted", 1, 2),
    ]


def test_an_approval_promotes_once(product_owner, feature, new_version, go_live):
    """Reusing an approval (after a rollback, or over a newer version) would skip today's review."""
    request = go_live(new_version())

    with pytest.raises(Conflict, match="An approval promotes once"):
        promotion_execute(actor=product_owner, request=request)

    assert DeploymentEvent.objects.count() == 2


def test_an_approval_for_the_old_risk_tier_no_longer_promotes(product_owner, feature, new_version, approved_request):
    request = approved_request(new_version())
    feature_update(actor=product_owner, feature=feature, reason="Now decides claims.", risk_tier="regulated")

    with pytest.raises(Conflict, match="needs the regulated gate"):
        promotion_execute(actor=product_owner, request=request)

    assert_nothing_went_live(feature)


def assert_nothing_went_live(feature):
    assert not Deployment.objects.filter(feature=feature).exists()
    assert not DeploymentEvent.objects.filter(feature=feature).exists()
    assert not AuditEvent.objects.filter(action="deployment.promoted").exists()


def test_promotion_of_a_pending_request_is_refused(product_owner, feature, new_version, record_evidence, request_gate):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)

    with pytest.raises(Conflict, match="still pending"):
        promotion_execute(actor=product_owner, request=request)

    assert_nothing_went_live(feature)


def test_promotion_of_a_rejected_request_is_refused(
    product_owner, security_reviewer, feature, new_version, record_evidence, request_gate
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    signoff_decide(
        actor=security_reviewer,
        signoff=pending_signoff(request, "security"),
        decision="reject",
        reason="No abuse monitoring.",
    )

    with pytest.raises(Conflict, match="is rejected; request the gate again"):
        promotion_execute(actor=product_owner, request=request)

    assert_nothing_went_live(feature)


def test_promotion_with_an_approval_past_its_expiry_is_refused(product_owner, feature, new_version, approved_request):
    request = approved_request(new_version())
    type(request).objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(Conflict, match="The approval expired on"):
        promotion_execute(actor=product_owner, request=request)

    assert_nothing_went_live(feature)


def test_promotion_is_refused_when_evidence_went_stale_since_the_approval(
    product_owner, feature, new_version, approved_request
):
    version = new_version()
    request = approved_request(version)
    Evaluation.objects.filter(version=version, kind="benchmark").update(run_at=days_ago(91))

    with pytest.raises(Conflict, match="no longer holds since the approval") as refused:
        promotion_execute(actor=product_owner, request=request)

    assert "Benchmark: 91 days old; the gate accepts at most 90." in str(refused.value)
    assert_nothing_went_live(feature)


def test_promotion_is_refused_when_readiness_was_removed_since_the_approval(
    product_owner, feature, new_version, approved_request
):
    request = approved_request(new_version())
    type(feature).objects.filter(pk=feature.pk).update(monitors="")

    with pytest.raises(Conflict, match="Monitor"):
        promotion_execute(actor=product_owner, request=request)

    assert_nothing_went_live(feature)


@pytest.mark.parametrize(
    "persona", ["outsider", "support_agent", "other_product_owner", "security_reviewer", "auditor"]
)
def test_only_the_team_or_governance_promotes(request, persona, feature, new_version, approved_request):
    gate_request = approved_request(new_version())

    with pytest.raises(PermissionDenied):
        promotion_execute(actor=request.getfixturevalue(persona), request=gate_request)

    assert_nothing_went_live(feature)


def test_governance_may_promote(governance_admin, feature, new_version, approved_request):
    promotion_execute(actor=governance_admin, request=approved_request(new_version()))

    assert live_versions(feature) == {"eu": 1, "us": 1}


# --- Expiry ---------------------------------------------------------------------------------------


def test_approvals_expire_marks_approvals_past_their_date_expired_and_audits_it(
    product_owner, feature, new_version, approved_request
):
    old = approved_request(new_version())
    current = approved_request(new_version(summary="Second."))
    type(old).objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(hours=1))

    assert approvals_expire() == 1

    assert fresh(old).status == RequestStatus.EXPIRED
    assert fresh(current).status == RequestStatus.APPROVED
    event = AuditEvent.objects.get(action="approval.expired")
    assert event.object_id == str(old.pk)
    assert event.actor is None and event.actor_name == "system"
    assert event.payload["status"] == ["approved", "expired"]
    assert approvals_expire() == 0  # nothing left to expire
    with pytest.raises(Conflict, match="is expired; request the gate again"):
        promotion_execute(actor=product_owner, request=old)
    assert_nothing_went_live(feature)
