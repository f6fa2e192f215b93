"""Roles and teams change through one audited path, and a change never leaves a sign-off its signer may
no longer give."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from registry.choices import MembershipSource
from registry.models import AuditEvent, Membership, Notification
from registry.permissions import has_role, user_team_ids
from registry.services import (
    membership_consequences,
    role_grant,
    role_revoke,
    team_member_add,
    team_member_remove,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_role_revoked_withdraws_the_signers_approval_on_an_open_request(
    new_version, record_evidence, request_gate, security_reviewer, governance_admin, ml_engineer
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    signoff = SignOff.objects.filter(request=request, role="security").first()
    from approvals.services import signoff_decide

    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")
    assert membership_consequences(security_reviewer, removed_roles=["security"]) == [
        f"Their security reviewer sign-off on request #{request.pk} ({version} to production) will be withdrawn; "
        "the slot opens again."
    ]

    role_revoke(actor=governance_admin, user=security_reviewer, role="security", reason="Moved to finance.")

    signoff.refresh_from_db()
    request.refresh_from_db()
    assert (signoff.status, signoff.signer_id) == (SignOffStatus.PENDING, None)
    assert request.status == RequestStatus.PENDING
    actions = list(AuditEvent.objects.order_by("-sequence").values_list("action", flat=True)[:2])
    assert actions == ["role.revoked", "signoff.withdrawn"]
    assert Notification.objects.filter(user=ml_engineer, subject__startswith="Sign-off withdrawn").exists()
    assert not has_role(security_reviewer, "security")


def test_nobody_grants_themselves_a_role_or_a_team(governance_admin, team):
    with pytest.raises(PermissionDenied):
        role_grant(actor=governance_admin, user=governance_admin, role="security", reason="I review too.")
    with pytest.raises(PermissionDenied):
        team_member_add(actor=governance_admin, team=team, user=governance_admin, reason="Joining.")


def test_a_reason_is_required_and_only_governance_changes_membership(governance_admin, product_owner, team):
    newcomer = UserFactory(username="newcomer")
    with pytest.raises(ValidationError):
        role_grant(actor=governance_admin, user=newcomer, role="ml", reason="  ")
    with pytest.raises(PermissionDenied):
        team_member_add(actor=product_owner, team=team, user=newcomer, reason="Helping out.")


def test_the_last_governance_admin_keeps_the_role(governance_admin):
    other = UserFactory(username="second-admin", roles=["governance"])
    role_revoke(actor=governance_admin, user=other, role="governance", reason="Left the committee.")
    with pytest.raises(ValidationError):
        role_revoke(actor=governance_admin, user=governance_admin, role="governance", reason="Stepping down.")


def test_sources_hold_a_membership_until_the_last_lets_go(governance_admin, team):
    person = UserFactory(username="dana")
    team_member_add(actor=None, team=team, user=person, source=MembershipSource.IDP)
    team_member_add(actor=governance_admin, team=team, user=person, reason="Also by hand.")
    assert team.pk in user_team_ids(person)

    assert team_member_remove(actor=None, team=team, user=person, source=MembershipSource.IDP) is False
    person.refresh_from_db()
    assert team.pk in user_team_ids(person)  # still held by the manual grant
    assert list(Membership.objects.filter(user=person).values_list("source", flat=True)) == ["manual"]

    assert team_member_remove(actor=governance_admin, team=team, user=person, reason="Left.") is True
    assert not team.group.user_set.filter(pk=person.pk).exists()


def test_the_identity_provider_cannot_take_what_it_did_not_give(team, product_owner):
    """A membership recorded by hand (or before sources) is not removed by an IdP sync."""
    assert team_member_remove(actor=None, team=team, user=product_owner, source=MembershipSource.IDP) is False
    assert team.group.user_set.filter(pk=product_owner.pk).exists()


def test_an_identity_provider_change_is_not_made_by_a_person(governance_admin, team):
    with pytest.raises(PermissionDenied):
        team_member_add(actor=governance_admin, team=team, user=UserFactory(), source=MembershipSource.IDP)
