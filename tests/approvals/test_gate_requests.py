"""Asking for a gate: the request keeps the rules it was opened under, opens one sign-off per required
signer, says what is still missing, and is refused for the wrong version, region, timing or person."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, GatePolicy, SignOff
from approvals.selectors import queue_for, requests_visible_to
from approvals.services import gate_policy_update
from core.exceptions import Conflict
from registry.models import AuditEvent, Notification
from registry.selectors import features_visible_to
from tests.approvals.conftest import REGULATED_EVIDENCE, fresh
from tests.factories import FeatureFactory, RegionFactory


def signoff_slots(request):
    return list(SignOff.objects.filter(request=request).order_by("role", "slot").values_list("role", "slot", "status"))


# --- The request snapshots its gate ------------------------------------------------------------


def test_a_request_keeps_the_requirements_of_its_gate_as_they_were_when_it_was_made(
    governance_admin, new_version, request_gate, record_evidence, sign_all
):
    version = new_version()
    request = request_gate(version)
    snapshot = fresh(request).requirements

    gate_policy_update(
        actor=governance_admin,
        policy=GatePolicy.objects.get(gate="production"),
        reason="Red teaming is now required before production.",
        review_sla_hours=24,
        approval_valid_days=3,
        requirements=[
            {"kind": "signoff", "role": "security", "count": 2},
            {"kind": "evidence", "evidence_kind": "red_team", "max_age_days": 30},
        ],
    )

    stored = fresh(request)
    assert stored.requirements == snapshot
    assert snapshot["gate"] == "production"
    assert [rule["role"] for rule in snapshot["signoffs"]] == ["legal", "ml", "product", "security"]
    assert {rule["kind"] for rule in snapshot["evidence"]} == {"benchmark", "safety", "privacy_review"}
    assert snapshot["approval_valid_days"] == 14
    assert [(role, slot) for role, slot, _ in signoff_slots(request)] == [
        ("legal", 1),
        ("ml", 1),
        ("product", 1),
        ("security", 1),
    ]
    # Judged by its own rules: no red team evidence needed, no second security reviewer, 14 days' validity.
    record_evidence(version)
    approved = sign_all(request)
    assert approved.status == RequestStatus.APPROVED
    assert (approved.expires_at - approved.decided_at).days == 14


def test_a_request_opens_one_pending_sign_off_per_required_signer(new_version, request_gate, ml_engineer):
    request = request_gate(new_version())

    assert request.status == RequestStatus.PENDING
    assert request.gate == "production"
    assert request.requester == ml_engineer
    assert signoff_slots(request) == [
        ("legal", 1, SignOffStatus.PENDING),
        ("ml", 1, SignOffStatus.PENDING),
        ("product", 1, SignOffStatus.PENDING),
        ("security", 1, SignOffStatus.PENDING),
    ]
    assert not SignOff.objects.filter(request=request, signer__isnull=False).exists()


def test_a_regulated_request_needs_two_security_reviewers(team, product_owner, eu, us, new_version, request_gate):
    regulated = FeatureFactory(
        slug="benefit-eligibility",
        team=team,
        risk_tier="regulated",
        accountable_owner=product_owner,
        rollback_path="Flag back.",
        monitors="https://grafana.example.test/d/benefits",
        slos="p95 < 2s",
        regions=[eu, us],
    )

    request = request_gate(new_version(target=regulated))

    assert request.gate == "regulated"
    assert [(role, slot) for role, slot, _ in signoff_slots(request)] == [
        ("legal", 1),
        ("ml", 1),
        ("product", 1),
        ("security", 1),
        ("security", 2),
    ]
    assert {rule["kind"] for rule in request.requirements["evidence"]} == set(REGULATED_EVIDENCE)


def test_the_audit_event_lists_the_evidence_and_readiness_still_missing(
    team, product_owner, eu, new_version, request_gate, record_evidence
):
    unmonitored = FeatureFactory(
        slug="claims-summary",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        rollback_path="Flag back.",
        monitors="",
        regions=[eu],
    )
    version = new_version(target=unmonitored)
    record_evidence(version, kinds=["benchmark"])

    request = request_gate(version, regions=[eu])

    event = AuditEvent.objects.get(action="approval.requested", object_id=str(request.pk))
    assert sorted(event.payload["missing"]) == [
        "Monitor: Monitor is not set on the feature.",
        "Privacy review: No privacy review evaluation recorded.",
        "Safety: No safety evaluation recorded.",
    ]
    assert event.payload["version"] == version.number
    assert event.payload["regions"] == ["eu"]
    assert sorted(event.payload["signoffs"]) == ["legal", "ml", "product", "security"]
    assert event.feature_id == unmonitored.pk


def test_nothing_is_missing_when_evidence_and_readiness_are_in_place(new_version, request_gate, record_evidence):
    version = new_version()
    record_evidence(version)

    request = request_gate(version)

    assert AuditEvent.objects.get(action="approval.requested", object_id=str(request.pk)).payload["missing"] == []
    assert request.status == RequestStatus.PENDING  # evidence alone approves nothing: sign-offs are pending


# --- Refusals ------------------------------------------------------------------------------------


def test_a_draft_version_cannot_request_a_gate(new_version, request_gate):
    draft = new_version(submit=False)

    with pytest.raises(Conflict, match="only submitted versions"):
        request_gate(draft)

    assert not ApprovalRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="approval.requested").exists()


def test_a_request_cannot_name_a_region_the_feature_does_not_serve(new_version, request_gate, eu):
    uk = RegionFactory(code="uk", name="United Kingdom")

    with pytest.raises(ValidationError) as refused:
        request_gate(new_version(), regions=[eu, uk])

    assert "regions" in refused.value.message_dict
    assert "uk" in refused.value.message_dict["regions"][0]
    assert not ApprovalRequest.objects.exists()


def test_a_request_needs_at_least_one_region(new_version, request_gate):
    with pytest.raises(ValidationError):
        request_gate(new_version(), regions=[])


def test_a_second_pending_request_for_the_same_version_and_environment_is_refused(new_version, request_gate, eu):
    version = new_version()
    first = request_gate(version)

    with pytest.raises(Conflict, match="already has a pending request"):
        request_gate(version, regions=[eu])

    assert list(ApprovalRequest.objects.values_list("pk", flat=True)) == [first.pk]
    # Another environment is another request.
    sandbox = request_gate(version, environment="sandbox")
    assert sandbox.gate == "sandbox"


@pytest.mark.parametrize(
    "persona", ["other_product_owner", "outsider", "support_agent", "security_reviewer", "auditor"]
)
def test_only_the_owning_team_or_governance_requests_a_gate(request, persona, new_version, request_gate):
    version = new_version()

    with pytest.raises(PermissionDenied):
        request_gate(version, actor=request.getfixturevalue(persona))

    assert not ApprovalRequest.objects.exists()


def test_governance_may_request_a_gate_for_any_feature(governance_admin, new_version, request_gate):
    request = request_gate(new_version(), actor=governance_admin)

    assert request.requester == governance_admin


# --- Reviewers can see and are told -------------------------------------------------------------


def test_role_holders_outside_the_team_do_not_see_a_restricted_features_request(
    client,
    team,
    product_owner,
    eu,
    security_reviewer,
    legal_reviewer,
    support_agent,
    second_ml_engineer,
    new_version,
    request_gate,
):
    """Holding a role the request needs does not open a restricted feature: its requests, queue entries and
    review page stay as invisible as the feature (governance brings reviewers in with a reviewer grant)."""
    secret = FeatureFactory(
        slug="fraud-signals",
        team=team,
        risk_tier="high",
        restricted=True,
        accountable_owner=product_owner,
        rollback_path="Flag back.",
        monitors="https://grafana.example.test/d/fraud",
        regions=[eu],
    )
    version = new_version(target=secret)

    request = request_gate(version, regions=[eu])

    for reviewer in (security_reviewer, legal_reviewer, second_ml_engineer, support_agent):
        assert secret not in features_visible_to(reviewer)
        assert not requests_visible_to(reviewer).filter(pk=request.pk).exists()
        assert not queue_for(reviewer).filter(request=request).exists()
    client.force_login(security_reviewer)
    assert client.get(request.get_absolute_url()).status_code == 404
    assert client.get(secret.get_absolute_url()).status_code == 404


def test_role_members_are_notified_except_the_requester_and_the_author(
    product_owner,
    ml_engineer,
    other_product_owner,
    second_ml_engineer,
    security_reviewer,
    legal_reviewer,
    support_agent,
    new_version,
    request_gate,
):
    version = new_version(author=ml_engineer)

    request = request_gate(version, actor=product_owner)

    def told(role):
        return set(
            Notification.objects.filter(key=f"signoff-queued:{request.pk}:{role}").values_list(
                "user__username", flat=True
            )
        )

    assert told("ml") == {second_ml_engineer.username}  # not the author
    assert told("product") == {other_product_owner.username}  # not the requester
    assert told("security") == {security_reviewer.username}
    assert told("legal") == {legal_reviewer.username}
    assert not Notification.objects.filter(user__in=[support_agent, ml_engineer, product_owner]).exists()
    notice = Notification.objects.get(user=security_reviewer)
    assert notice.url == request.get_absolute_url()
    assert "Sign-off needed" in notice.subject
