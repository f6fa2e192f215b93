"""Rolling back returns a pointer to a version that served it before, without a new approval, records
why, never rewrites history, and by default does not return to a version someone rolled back away from."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from approvals.choices import RequestStatus
from approvals.models import ApprovalRequest
from approvals.services import approvals_expire, promotion_execute
from core.exceptions import Conflict
from registry.choices import DeploymentEventKind
from registry.models import AuditEvent, Deployment, DeploymentEvent
from registry.services import default_rollback_target, deployment_rollback


def live(feature, region, environment="production"):
    return Deployment.objects.get(feature=feature, environment=environment, region=region).version.number


def steps(feature, region):
    return list(
        DeploymentEvent.objects.filter(feature=feature, environment="production", region=region)
        .order_by("id")
        .values_list("kind", "from_version__number", "to_version__number")
    )


@pytest.fixture
def rollback(product_owner, feature, eu):
    def roll(*, actor=None, region=None, reason="Complaint rate doubled after the release.", to_version=None):
        return deployment_rollback(
            actor=actor or product_owner,
            feature=feature,
            environment="production",
            region=region or eu,
            reason=reason,
            to_version=to_version,
        )

    return roll


def test_a_rollback_returns_the_previous_version_and_records_why(product_owner, feature, eu, us, releases, rollback):
    v1, v2 = releases(2)

    event = rollback(reason="  Complaint rate doubled after the release.  ")

    assert (event.kind, event.from_version, event.to_version) == (DeploymentEventKind.ROLLED_BACK, v2, v1)
    assert event.reason == "Complaint rate doubled after the release."
    assert event.actor == product_owner
    assert event.approval_request_id is None
    assert live(feature, eu) == 1
    assert live(feature, us) == 2  # only the region asked for
    assert steps(feature, eu) == [("promoted", None, 1), ("promoted", 1, 2), ("rolled_back", 2, 1)]
    audit = AuditEvent.objects.get(action="deployment.rolled_back")
    assert audit.payload == {
        "environment": "production",
        "region": "eu",
        "from_version": 2,
        "to_version": 1,
        "reason": "Complaint rate doubled after the release.",
        "approval_request": None,
        "incident": None,
    }


def test_the_default_target_is_the_version_live_before_the_current_one(feature, eu, releases, rollback):
    _v1, v2, v3 = releases(3)
    assert default_rollback_target(feature=feature, environment="production", region=eu) == v2

    event = rollback()

    assert (event.from_version, event.to_version) == (v3, v2)
    assert live(feature, eu) == 2


def test_a_second_rollback_goes_further_back_not_to_the_abandoned_version(feature, eu, releases, rollback):
    v1, v2, _v3 = releases(3)
    rollback()

    event = rollback(reason="v2 has the same regression.")

    assert (event.from_version, event.to_version) == (v2, v1)
    assert live(feature, eu) == 1
    assert steps(feature, eu) == [
        ("promoted", None, 1),
        ("promoted", 1, 2),
        ("promoted", 2, 3),
        ("rolled_back", 3, 2),
        ("rolled_back", 2, 1),
    ]


def test_a_version_rolled_back_from_and_released_again_is_a_good_default_once_more(
    feature, eu, new_version, go_live, approved_request, product_owner, rollback
):
    v1, v2 = new_version(summary="Release 1."), new_version(summary="Release 2.")
    go_live(v1)
    go_live(v2)
    rollback(reason="v2 regressed.")
    promotion_execute(actor=product_owner, request=approved_request(v2))  # fixed upstream, v2 served again
    v3 = new_version(summary="Release 3.")
    go_live(v3)

    assert default_rollback_target(feature=feature, environment="production", region=eu) == v2


def test_an_explicit_target_may_be_any_version_that_served_before(feature, eu, releases, rollback):
    v1, _v2, v3 = releases(3)

    event = rollback(to_version=v1)

    assert (event.from_version, event.to_version) == (v3, v1)


def test_an_explicit_target_that_never_served_is_refused(
    feature, eu, releases, rollback, new_version, approved_request
):
    _v1, v2 = releases(2)
    approved_but_never_live = new_version(summary="Approved, never promoted.")
    approved_request(approved_but_never_live)

    for target in (approved_but_never_live, v2):  # never served; serving now
        with pytest.raises(ValidationError) as refused:
            rollback(to_version=target)
        assert "to_version" in refused.value.message_dict

    assert live(feature, eu) == 2
    assert not DeploymentEvent.objects.filter(kind=DeploymentEventKind.ROLLED_BACK).exists()


def test_a_rollback_must_say_why(feature, eu, releases, rollback):
    releases(2)

    for reason in ("", "   ", None):
        with pytest.raises(ValidationError) as refused:
            rollback(reason=reason)
        assert "reason" in refused.value.message_dict

    assert live(feature, eu) == 2


def test_nothing_live_means_nothing_to_roll_back(feature, rollback):
    with pytest.raises(Conflict, match="is not live"):
        rollback()


def test_a_first_release_has_nothing_earlier_to_roll_back_to(feature, eu, releases, rollback):
    releases(1)

    with pytest.raises(Conflict, match="No earlier version of"):
        rollback()

    assert live(feature, eu) == 1


def test_a_rollback_needs_no_new_approval(feature, eu, releases, rollback):
    v1, _v2 = releases(2)
    ApprovalRequest.objects.update(expires_at=timezone.now() - timedelta(days=1))
    approvals_expire()
    requests_before = ApprovalRequest.objects.count()
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {RequestStatus.EXPIRED}

    event = rollback()

    assert event.to_version == v1
    assert ApprovalRequest.objects.count() == requests_before


@pytest.mark.parametrize(
    "persona", ["outsider", "support_agent", "other_product_owner", "security_reviewer", "auditor"]
)
def test_only_the_team_or_governance_rolls_back(request, persona, feature, eu, releases, rollback):
    releases(2)

    with pytest.raises(PermissionDenied):
        rollback(actor=request.getfixturevalue(persona))

    assert live(feature, eu) == 2
    assert not AuditEvent.objects.filter(action="deployment.rolled_back").exists()


@pytest.mark.parametrize("persona", ["ml_engineer", "product_owner", "governance_admin"])
def test_team_members_and_governance_may_roll_back(request, persona, feature, eu, releases, rollback):
    releases(2)

    event = rollback(actor=request.getfixturevalue(persona))

    assert event.actor == request.getfixturevalue(persona)
    assert live(feature, eu) == 1


def test_a_rollback_never_moves_forward_to_a_version_rolled_back_away_from(feature, eu, releases, rollback):
    """v2 was rolled back for a reason: returning to it is a promotion (approval, freeze), not a rollback."""
    _v1, v2 = releases(2)
    rollback(reason="v2 leaked HR notes.")

    assert default_rollback_target(feature=feature, environment="production", region=eu) is None
    with pytest.raises(Conflict, match="Promote an approved version instead"):
        rollback(to_version=v2, reason="Let's try v2 again.")
    assert live(feature, eu) == 1
