"""Gate policies are governance's: every change says why and keeps old and new in the audit trail, a gate
always needs a reviewer, and which gate a tier needs decides what new requests must pass."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.models import GateAssignment, GatePolicy
from approvals.services import gate_assignment_update, gate_for, gate_policy_update, requirements_snapshot
from registry.models import AuditEvent
from tests.approvals.conftest import pending_signoff

STRICTER_PRODUCTION = [
    {"kind": "signoff", "role": "ml", "count": 1},
    {"kind": "signoff", "role": "security", "count": 2},
    {"kind": "signoff", "role": "product", "count": 1},
    {"kind": "evidence", "evidence_kind": "benchmark", "min_score": 0.85, "max_age_days": 30},
    {"kind": "evidence", "evidence_kind": "red_team", "max_age_days": 60},
    {"kind": "readiness", "readiness_item": "incident_owner"},
]


@pytest.fixture
def production():
    return GatePolicy.objects.get(gate="production")


def update(policy, *, actor, requirements=STRICTER_PRODUCTION, reason="Incident 42: tighten production."):
    return gate_policy_update(
        actor=actor,
        policy=policy,
        reason=reason,
        requirements=requirements,
        review_sla_hours=24,
        approval_valid_days=7,
        description="Stricter after incident 42.",
        due_soon_days=10,
        escalation_grace_days=3,
    )


def test_governance_updates_a_policy_and_the_audit_keeps_old_new_and_why(governance_admin, production):
    before = requirements_snapshot(GatePolicy.objects.prefetch_related("requirements").get(pk=production.pk))

    update(production, actor=governance_admin)

    stored = GatePolicy.objects.prefetch_related("requirements").get(pk=production.pk)
    after = requirements_snapshot(stored)
    assert (stored.review_sla_hours, stored.approval_valid_days) == (24, 7)
    assert (stored.due_soon_days, stored.escalation_grace_days) == (10, 3)
    assert after["signoffs"] == [
        {"role": "ml", "count": 1},
        {"role": "product", "count": 1},
        {"role": "security", "count": 2},
    ]
    assert after["evidence"] == [
        {"kind": "benchmark", "min_score": 0.85, "max_age_days": 30},
        {"kind": "red_team", "min_score": None, "max_age_days": 60},
    ]
    assert after["readiness"] == ["incident_owner"]
    event = AuditEvent.objects.get(action="gate_policy.updated")
    assert event.actor == governance_admin
    assert event.payload["reason"] == "Incident 42: tighten production."
    assert event.payload["old"] == {**before, "due_soon_days": 14, "escalation_grace_days": 7}
    assert event.payload["new"] == {**after, "due_soon_days": 10, "escalation_grace_days": 3}


@pytest.mark.parametrize(
    "persona", ["product_owner", "ml_engineer", "security_reviewer", "legal_reviewer", "auditor", "outsider"]
)
def test_only_governance_changes_a_policy(request, persona, production):
    before = requirements_snapshot(production)

    with pytest.raises(PermissionDenied):
        update(production, actor=request.getfixturevalue(persona))

    assert requirements_snapshot(GatePolicy.objects.prefetch_related("requirements").get(pk=production.pk)) == before
    assert not AuditEvent.objects.filter(action="gate_policy.updated").exists()


def assert_refused(policy, actor, requirements, *, reason="Simplify."):
    before = requirements_snapshot(GatePolicy.objects.prefetch_related("requirements").get(pk=policy.pk))
    with pytest.raises(ValidationError) as refused:
        update(policy, actor=actor, requirements=requirements, reason=reason)
    assert requirements_snapshot(GatePolicy.objects.prefetch_related("requirements").get(pk=policy.pk)) == before
    assert not AuditEvent.objects.filter(action="gate_policy.updated").exists()
    return refused.value


def test_a_policy_without_any_sign_off_is_refused(governance_admin, production):
    error = assert_refused(
        production, governance_admin, [{"kind": "evidence", "evidence_kind": "benchmark", "max_age_days": 90}]
    )
    assert "nothing goes live unreviewed" in str(error)

    assert_refused(production, governance_admin, [])


def test_a_duplicate_requirement_is_refused(governance_admin, production):
    error = assert_refused(
        production,
        governance_admin,
        [{"kind": "signoff", "role": "security", "count": 1}, {"kind": "signoff", "role": "security", "count": 2}],
    )
    assert "listed twice" in str(error)
    assert_refused(
        production,
        governance_admin,
        [
            {"kind": "signoff", "role": "ml"},
            {"kind": "evidence", "evidence_kind": "safety"},
            {"kind": "evidence", "evidence_kind": "safety", "max_age_days": 30},
        ],
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "signoff", "role": "auditor"},
        {"kind": "signoff", "role": "astronaut"},
        {"kind": "signoff", "role": "security", "count": 6},
        {"kind": "evidence", "evidence_kind": "vibes"},
        {"kind": "evidence", "evidence_kind": "safety", "max_age_days": 0},
        {"kind": "readiness", "readiness_item": "prayer"},
        {"kind": "wish"},
    ],
)
def test_malformed_requirements_are_refused(governance_admin, production, bad):
    assert_refused(production, governance_admin, [{"kind": "signoff", "role": "ml"}, bad])


def test_a_policy_change_must_say_why(governance_admin, production):
    assert_refused(production, governance_admin, STRICTER_PRODUCTION, reason="  ")


def test_new_requests_use_the_updated_policy(governance_admin, production, new_version, request_gate):
    update(production, actor=governance_admin)

    request = request_gate(new_version())

    assert request.requirements["approval_valid_days"] == 7
    assert pending_signoff(request, "security", 2).role == "security"
    assert not request.signoffs.filter(role="legal").exists()


def test_an_assignment_change_decides_which_gate_new_requests_need(
    governance_admin, feature, new_version, request_gate
):
    assert gate_for(risk_tier="high", environment="production").gate == "production"

    gate_assignment_update(
        actor=governance_admin,
        risk_tier="high",
        environment="production",
        gate="regulated",
        reason="Claims decisions now count as regulated.",
    )

    assert GateAssignment.objects.get(risk_tier="high", environment="production").gate == "regulated"
    event = AuditEvent.objects.get(action="gate_assignment.updated")
    assert event.payload["gate"] == ["production", "regulated"]
    assert event.payload["reason"] == "Claims decisions now count as regulated."
    request = request_gate(new_version())
    assert request.gate == "regulated"
    assert request.signoffs.filter(role="security").count() == 2


@pytest.mark.parametrize("persona", ["product_owner", "security_reviewer", "auditor", "outsider"])
def test_only_governance_changes_assignments(request, persona):
    with pytest.raises(PermissionDenied):
        gate_assignment_update(
            actor=request.getfixturevalue(persona),
            risk_tier="high",
            environment="production",
            gate="sandbox",
            reason="Faster.",
        )

    assert GateAssignment.objects.get(risk_tier="high", environment="production").gate == "production"


def test_an_assignment_change_must_say_why_and_name_known_values(governance_admin):
    with pytest.raises(ValidationError):
        gate_assignment_update(
            actor=governance_admin, risk_tier="high", environment="production", gate="regulated", reason=""
        )
    with pytest.raises(ValidationError):
        gate_assignment_update(
            actor=governance_admin, risk_tier="extreme", environment="production", gate="regulated", reason="Why not."
        )

    assert GateAssignment.objects.get(risk_tier="high", environment="production").gate == "production"
    assert not AuditEvent.objects.filter(action="gate_assignment.updated").exists()
