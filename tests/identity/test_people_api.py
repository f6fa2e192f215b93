"""The people and teams API: the pages' rules and services, a reason for every change, writes with a
``full`` token only, errors in the house format (``detail`` and ``code``)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from approvals.choices import SignOffStatus
from approvals.models import SignOff
from approvals.services import signoff_decide
from core.audit_context import AuditSource
from registry.choices import MembershipSource
from registry.models import AuditEvent, Team
from registry.permissions import has_role
from registry.services import api_token_create, team_member_add
from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    default_gates,
    feature,
    new_version,
    pins,
    record_evidence,
    request_gate,
)
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = "/api/v1/people/"
TEAMS = "/api/v1/teams/"


def as_user(user, scopes=("full",)) -> APIClient:
    _, raw = api_token_create(actor=user, user=user, name="tests", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


# --- People ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status",
    [("governance_admin", 200), ("auditor", 200), ("product_owner", 403), ("outsider", 403)],
)
def test_people_are_listed_for_governance_and_auditors(request, persona, status, ml_engineer):
    client = as_user(request.getfixturevalue(persona), scopes=["read"])

    listed = client.get(PEOPLE)
    one = client.get(f"{PEOPLE}{ml_engineer.username}/")
    unknown = client.get(f"{PEOPLE}no-such-person/")

    assert listed.status_code == one.status_code == status
    assert unknown.status_code == (404 if status == 200 else 403)
    if status == 403:
        assert listed.json()["code"] == "permission_denied"


def test_a_person_shows_roles_and_teams_with_their_sources(governance_admin, team):
    person = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    team_member_add(actor=None, team=team, user=person, source=MembershipSource.IDP)
    client = as_user(governance_admin)
    client.post(f"{PEOPLE}dana/roles/", {"role": "security", "reason": "Review board."}, format="json")

    body = client.get(f"{PEOPLE}dana/").json()

    assert body["name"] == "Dana Ng" and body["is_active"] is True
    [role] = body["roles"]
    assert role["role"] == "security"
    assert role["sources"][0]["source"] == "manual"
    assert role["sources"][0]["reason"] == "Review board."
    assert role["sources"][0]["granted_by"] == governance_admin.username
    [membership] = body["teams"]
    assert membership["slug"] == "claims" and membership["sources"][0]["source"] == "idp"
    assert membership["sources"][0]["granted_by"] is None


def test_people_are_filtered_like_the_page(governance_admin, ml_engineer, product_owner):
    client = as_user(governance_admin, scopes=["read"])

    by_role = client.get(PEOPLE, {"role": "ml"}).json()["results"]
    bad = client.get(PEOPLE, {"role": "wizard"})

    assert [person["username"] for person in by_role] == [ml_engineer.username]
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_a_role_is_granted_and_revoked_with_a_reason_audited_as_from_the_api(governance_admin, outsider):
    client = as_user(governance_admin)

    granted = client.post(f"{PEOPLE}{outsider.username}/roles/", {"role": "support", "reason": "Help desk."})
    assert granted.status_code == 200
    assert [role["role"] for role in granted.json()["roles"]] == ["support"]
    revoked = client.post(
        f"{PEOPLE}{outsider.username}/roles/revoke/", {"role": "support", "reason": "Moved on."}, format="json"
    )

    assert revoked.status_code == 200 and revoked.json()["roles"] == []
    events = AuditEvent.objects.filter(action__in=("role.granted", "role.revoked")).order_by("sequence")
    assert [(event.action, event.source, event.payload["reason"]) for event in events] == [
        ("role.granted", AuditSource.API, "Help desk."),
        ("role.revoked", AuditSource.API, "Moved on."),
    ]


def test_a_reason_never_travels_in_the_url_revoking_and_removing_take_no_delete(governance_admin, security_reviewer):
    client = as_user(governance_admin)
    assert client.delete(f"{PEOPLE}{security_reviewer.username}/roles/?role=security&reason=Left.").status_code == 405
    assert client.delete(f"{TEAMS}claims/members/?username=x&reason=y").status_code == 405
    assert has_role(fresh(security_reviewer), "security")


def test_revoking_a_role_withdraws_the_signers_open_approval(
    new_version, record_evidence, request_gate, security_reviewer, governance_admin
):
    version = new_version()
    record_evidence(version)
    signoff = SignOff.objects.filter(request=request_gate(version), role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")

    as_user(governance_admin).post(
        f"{PEOPLE}{security_reviewer.username}/roles/revoke/", {"role": "security", "reason": "Left."}, format="json"
    )

    signoff.refresh_from_db()
    assert signoff.status == SignOffStatus.PENDING and signoff.signer_id is None


@pytest.mark.parametrize(
    "body, field",
    [
        ({"role": "support"}, "reason"),
        ({"role": "support", "reason": "  "}, "reason"),
        ({"role": "wizard", "reason": "Magic."}, "role"),
        ({}, "role"),
        ({"role": ["support"], "reason": {"x": 1}}, "role"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(governance_admin, outsider, body, field):
    response = as_user(governance_admin).post(f"{PEOPLE}{outsider.username}/roles/", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()
    assert not fresh(outsider).groups.exists()


def test_nobody_grants_themselves_a_role(governance_admin):
    response = as_user(governance_admin).post(
        f"{PEOPLE}{governance_admin.username}/roles/", {"role": "security", "reason": "I review."}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "separation_of_duties"
    assert "nobody grants themselves" in response.json()["detail"]


def test_the_last_governance_admin_keeps_the_role(governance_admin):
    root = UserFactory(username="root", is_superuser=True)

    response = as_user(root).post(
        f"{PEOPLE}{governance_admin.username}/roles/revoke/", {"role": "governance", "reason": "Bye."}, format="json"
    )

    assert response.status_code == 400 and "last active governance admin" in str(response.json()["role"])


@pytest.mark.parametrize("persona", ["auditor", "product_owner"])
def test_only_governance_changes_people(request, persona, outsider):
    client = as_user(request.getfixturevalue(persona))

    grant = client.post(f"{PEOPLE}{outsider.username}/roles/", {"role": "ml", "reason": "x"})
    deactivate = client.post(f"{PEOPLE}{outsider.username}/deactivate/", {"reason": "x"})

    assert grant.status_code == deactivate.status_code == 403
    assert fresh(outsider).is_active and not fresh(outsider).groups.exists()


def test_a_read_token_cannot_change_people(governance_admin, outsider):
    response = as_user(governance_admin, scopes=["read"]).post(
        f"{PEOPLE}{outsider.username}/roles/", {"role": "ml", "reason": "x"}
    )

    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"


def test_deactivation_ends_sessions_and_revokes_tokens_and_reactivation_lets_them_back(governance_admin, ml_engineer):
    browser = Client()
    browser.login(username=ml_engineer.username, password=PASSWORD)
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    client = as_user(governance_admin)

    no_reason = client.post(f"{PEOPLE}{ml_engineer.username}/deactivate/", {})
    deactivated = client.post(f"{PEOPLE}{ml_engineer.username}/deactivate/", {"reason": "Left."})

    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert deactivated.status_code == 200
    assert deactivated.json()["is_active"] is False and deactivated.json()["live_sessions"] == 0
    assert deactivated.json()["active_tokens"] == 0
    assert browser.get("/").status_code == 302
    assert Client().get(PEOPLE, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401

    reactivated = client.post(f"{PEOPLE}{ml_engineer.username}/reactivate/", {"reason": "Back."})
    assert reactivated.status_code == 200 and reactivated.json()["is_active"] is True


@pytest.mark.parametrize("username", ["no-such-person", "x.y@z+w", "%E2%80%AE", "a" * 300])
def test_an_unknown_person_in_the_address_is_a_json_404(governance_admin, username):
    client = as_user(governance_admin)

    for response in (
        client.get(f"{PEOPLE}{username}/"),
        client.post(f"{PEOPLE}{username}/roles/", {"role": "ml", "reason": "x"}),
        client.post(f"{PEOPLE}{username}/deactivate/", {"reason": "x"}),
    ):
        assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_a_username_with_a_dot_is_found(governance_admin):
    UserFactory(username="jane.doe")

    assert as_user(governance_admin).get(f"{PEOPLE}jane.doe/").json()["username"] == "jane.doe"


# --- Teams -------------------------------------------------------------------------------------------------


def test_everyone_lists_teams_with_member_counts(outsider, team, product_owner, ml_engineer):
    body = as_user(outsider, scopes=["read"]).get(TEAMS).json()

    assert [(row["slug"], row["member_count"]) for row in body["results"]] == [("claims", 2)]


def test_governance_creates_and_renames_a_team(governance_admin):
    client = as_user(governance_admin)

    created = client.post(TEAMS, {"slug": "fraud", "name": "Fraud", "description": "Catches fraud."}, format="json")
    renamed = client.patch(f"{TEAMS}fraud/", {"name": "Fraud and abuse", "reason": "Wider remit."}, format="json")
    duplicate = client.post(TEAMS, {"slug": "fraud", "name": "Other"}, format="json")

    assert created.status_code == 201 and created.json()["member_count"] == 0
    assert renamed.status_code == 200 and renamed.json()["name"] == "Fraud and abuse"
    assert renamed.json()["slug"] == "fraud" and renamed.json()["description"] == "Catches fraud."
    assert duplicate.status_code == 400 and "slug" in duplicate.json()
    assert AuditEvent.objects.filter(action="team.updated", payload__reason="Wider remit.").exists()


@pytest.mark.parametrize("persona", ["auditor", "product_owner", "outsider"])
def test_only_governance_changes_teams(request, persona, team):
    client = as_user(request.getfixturevalue(persona))

    assert client.post(TEAMS, {"slug": "x", "name": "X"}, format="json").status_code == 403
    assert client.patch(f"{TEAMS}claims/", {"name": "Y"}, format="json").status_code == 403
    assert client.post(f"{TEAMS}claims/members/", {"username": "olly-outsider", "reason": "x"}).status_code == 403
    assert Team.objects.get(pk=team.pk).name == "Claims"


def test_members_are_listed_for_everyone_with_sources_for_governance_and_auditors(
    governance_admin, auditor, outsider, team, product_owner
):
    everyone = as_user(outsider, scopes=["read"]).get(f"{TEAMS}claims/members/").json()
    auditors = as_user(auditor, scopes=["read"]).get(f"{TEAMS}claims/members/").json()

    assert everyone["count"] == 1 and everyone["results"][0]["username"] == product_owner.username
    assert everyone["results"][0]["sources"] is None
    assert auditors["results"][0]["sources"][0]["source"] == "manual"


def test_governance_adds_and_removes_members_with_a_reason(governance_admin, team, outsider):
    client = as_user(governance_admin)

    added = client.post(f"{TEAMS}claims/members/", {"username": outsider.username, "reason": "Rotation."})
    assert added.status_code == 200 and added.json()["sources"][0]["reason"] == "Rotation."
    assert team.group.user_set.filter(pk=outsider.pk).exists()
    removed = client.post(
        f"{TEAMS}claims/members/remove/",
        {"username": f"{outsider.username}", "reason": "Rotation over."},
        format="json",
    )

    assert removed.status_code == 204
    assert not team.group.user_set.filter(pk=outsider.pk).exists()
    assert AuditEvent.objects.filter(action="team.member_removed", payload__reason="Rotation over.").exists()


@pytest.mark.parametrize(
    "body, status, key",
    [
        ({"username": "olly-outsider"}, 400, "reason"),
        ({"username": "nobody-by-that-name", "reason": "x"}, 400, "username"),
        ({"username": "", "reason": "x"}, 400, "username"),
        ({"username": "gia-governance", "reason": "Joining."}, 403, "code"),
    ],
)
def test_a_refused_add_says_why(governance_admin, team, outsider, body, status, key):
    response = as_user(governance_admin).post(f"{TEAMS}claims/members/", body, format="json")

    assert response.status_code == status and key in response.json()
    if status == 403:
        assert response.json()["code"] == "separation_of_duties"


def test_an_unknown_team_is_a_json_404(governance_admin):
    client = as_user(governance_admin)

    assert client.get(f"{TEAMS}nope/").status_code == 404
    assert client.get(f"{TEAMS}nope/members/").json()["code"] == "not_found"
    assert client.post(f"{TEAMS}nope/members/", {"username": "x", "reason": "y"}).status_code == 404


def test_the_schema_documents_the_new_endpoints(client, outsider):
    client.force_login(outsider)

    schema = client.get("/api/schema/").content.decode()

    for path in (
        "/api/v1/people/{username}/roles/",
        "/api/v1/people/{username}/roles/revoke/",
        "/api/v1/teams/{slug}/members/",
        "/api/v1/teams/{slug}/members/remove/",
        "/api/v1/people/",
    ):
        assert path in schema
