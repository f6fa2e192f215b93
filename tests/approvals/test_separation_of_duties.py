"""Separation of duties: nobody reviews their own work or their own request, a person signs one role of a
request, only a role's holders sign for it, and a single rejection stops the request."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from approvals.services import signoff_decide
from core.exceptions import Conflict
from registry.models import AuditEvent, Notification
from tests.approvals.conftest import fresh, pending_signoff
from tests.factories import FeatureFactory, UserFactory


def assert_untouched(signoff):
    stored = fresh(signoff)
    assert (stored.status, stored.signer_id, stored.decided_at) == (SignOffStatus.PENDING, None, None)


@pytest.fixture
def version(new_version, record_evidence):
    version = new_version()
    record_evidence(version)
    return version


def test_the_author_of_the_version_cannot_sign_it(ml_engineer, product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)
    ml = pending_signoff(request, "ml")

    with pytest.raises(PermissionDenied, match="You wrote this version"):
        signoff_decide(actor=ml_engineer, signoff=ml, decision="approve")

    assert_untouched(ml)
    assert not AuditEvent.objects.filter(action__startswith="signoff.").exists()


def test_the_requester_cannot_sign_their_own_request(product_owner, other_product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)
    product = pending_signoff(request, "product")

    with pytest.raises(PermissionDenied, match="You requested this gate"):
        signoff_decide(actor=product_owner, signoff=product, decision="approve")
    assert_untouched(product)

    signoff_decide(actor=other_product_owner, signoff=product, decision="approve")
    assert fresh(product).signer == other_product_owner


def test_a_person_signs_at_most_one_role_of_a_request(version, request_gate):
    security_and_legal = UserFactory(username="dual-hat", roles=["security", "legal"])
    request = request_gate(version)

    signoff_decide(actor=security_and_legal, signoff=pending_signoff(request, "security"), decision="approve")

    legal = pending_signoff(request, "legal")
    with pytest.raises(PermissionDenied, match="already signed this request as security reviewer"):
        signoff_decide(actor=security_and_legal, signoff=legal, decision="approve")
    assert_untouched(legal)
    assert list(SignOff.objects.filter(signer=security_and_legal).values_list("role", flat=True)) == ["security"]


def test_a_dual_role_person_may_still_sign_the_other_role_on_another_request(
    team, product_owner, eu, new_version, request_gate
):
    security_and_legal = UserFactory(username="dual-hat", roles=["security", "legal"])
    other = FeatureFactory(
        slug="claims-summary", team=team, risk_tier="high", accountable_owner=product_owner, regions=[eu]
    )
    first = request_gate(new_version())
    second = request_gate(new_version(target=other), regions=[eu])

    signoff_decide(actor=security_and_legal, signoff=pending_signoff(first, "security"), decision="approve")
    signoff_decide(actor=security_and_legal, signoff=pending_signoff(second, "legal"), decision="approve")

    assert fresh(pending_signoff(second, "legal")).signer == security_and_legal


@pytest.mark.parametrize(
    "persona, role",
    [
        ("legal_reviewer", "security"),
        ("security_reviewer", "legal"),
        ("support_agent", "product"),
        ("governance_admin", "security"),
        ("auditor", "legal"),
        ("outsider", "ml"),
        ("other_product_owner", "ml"),
    ],
)
def test_only_holders_of_a_role_sign_for_it(request, persona, role, version, request_gate):
    gate_request = request_gate(version)
    signoff = pending_signoff(gate_request, role)

    with pytest.raises(PermissionDenied, match="Only holders of the"):
        signoff_decide(actor=request.getfixturevalue(persona), signoff=signoff, decision="approve")

    assert_untouched(signoff)


def test_a_rejection_must_say_why(security_reviewer, version, request_gate):
    request = request_gate(version)
    security = pending_signoff(request, "security")

    for reason in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            signoff_decide(actor=security_reviewer, signoff=security, decision="reject", reason=reason)
        assert "reason" in refused.value.message_dict

    assert_untouched(security)
    assert fresh(request).status == RequestStatus.PENDING


def test_an_unknown_decision_is_refused(security_reviewer, version, request_gate):
    security = pending_signoff(request_gate(version), "security")

    with pytest.raises(ValidationError):
        signoff_decide(actor=security_reviewer, signoff=security, decision="maybe")

    assert_untouched(security)


def test_one_rejection_rejects_the_request_and_it_takes_no_more_sign_offs(
    ml_engineer, product_owner, security_reviewer, legal_reviewer, second_ml_engineer, version, request_gate
):
    request = request_gate(version)
    signoff_decide(actor=second_ml_engineer, signoff=pending_signoff(request, "ml"), decision="approve")

    signoff_decide(
        actor=security_reviewer,
        signoff=pending_signoff(request, "security"),
        decision="reject",
        reason="Prompt injection through claim attachments is not mitigated.",
    )

    stored = fresh(request)
    assert stored.status == RequestStatus.REJECTED
    assert stored.decided_at is not None
    assert stored.expires_at is None
    rejected = pending_signoff(request, "security")
    assert (rejected.status, rejected.signer, rejected.reason) == (
        SignOffStatus.REJECTED,
        security_reviewer,
        "Prompt injection through claim attachments is not mitigated.",
    )
    event = AuditEvent.objects.get(action="approval.rejected", object_id=str(request.pk))
    assert event.payload["status"] == ["pending", "rejected"]
    assert event.payload["role"] == "security"
    assert set(Notification.objects.filter(key=f"approval-rejected:{request.pk}").values_list("user", flat=True)) == {
        ml_engineer.pk,
        product_owner.pk,
    }

    legal = pending_signoff(request, "legal")
    with pytest.raises(Conflict, match="rejected; it takes no more sign-offs"):
        signoff_decide(actor=legal_reviewer, signoff=legal, decision="approve")
    assert_untouched(legal)
    assert fresh(request).status == RequestStatus.REJECTED


def test_a_decided_sign_off_cannot_be_decided_again(security_reviewer, second_security_reviewer, version, request_gate):
    request = request_gate(version)
    security = pending_signoff(request, "security")
    signoff_decide(actor=security_reviewer, signoff=security, decision="approve")

    with pytest.raises(Conflict, match="already given by sam-security"):
        signoff_decide(actor=second_security_reviewer, signoff=security, decision="reject", reason="Changed my mind.")

    assert fresh(security).signer == security_reviewer
    assert fresh(request).status == RequestStatus.PENDING


def test_after_a_rejection_a_new_request_starts_fresh_and_can_be_approved(
    security_reviewer, version, request_gate, sign_all
):
    rejected = request_gate(version)
    signoff_decide(
        actor=security_reviewer,
        signoff=pending_signoff(rejected, "security"),
        decision="reject",
        reason="Missing abuse monitoring.",
    )

    again = request_gate(version)

    assert again.pk != rejected.pk
    assert set(SignOff.objects.filter(request=again).values_list("status", flat=True)) == {SignOffStatus.PENDING}
    assert not SignOff.objects.filter(request=again, signer__isnull=False).exists()
    approved = sign_all(again)  # the same reviewer may now approve the new request
    assert approved.status == RequestStatus.APPROVED
    assert pending_signoff(again, "security").signer == security_reviewer
    assert fresh(rejected).status == RequestStatus.REJECTED


def test_two_different_security_reviewers_fill_the_two_regulated_slots(
    team, product_owner, eu, security_reviewer, second_security_reviewer, new_version, record_evidence, request_gate
):
    regulated = FeatureFactory(
        slug="benefit-eligibility",
        team=team,
        risk_tier="regulated",
        accountable_owner=product_owner,
        rollback_path="Flag back.",
        monitors="https://grafana.example.test/d/benefits",
        slos="p95 < 2s",
        regions=[eu],
    )
    request = request_gate(new_version(target=regulated), regions=[eu])
    first, second = pending_signoff(request, "security", 1), pending_signoff(request, "security", 2)

    signoff_decide(actor=security_reviewer, signoff=first, decision="approve")
    with pytest.raises(PermissionDenied, match="already signed"):
        signoff_decide(actor=security_reviewer, signoff=second, decision="approve")
    assert_untouched(second)

    signoff_decide(actor=second_security_reviewer, signoff=second, decision="approve")
    assert [s.signer for s in SignOff.objects.filter(request=request, role="security").order_by("slot")] == [
        security_reviewer,
        second_security_reviewer,
    ]
