"""The People pages: governance admins and auditors see who holds what and through which source; governance
admins grant and revoke roles and deactivate people, each with a reason, through the audited services, and
see a service's refusal on the form with what they typed kept."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from approvals.choices import SignOffStatus
from approvals.models import SignOff
from approvals.services import signoff_decide
from registry.choices import MembershipSource
from registry.models import ApiToken, AuditEvent, UserSession
from registry.permissions import has_role
from registry.services import api_token_create, role_grant, team_member_add
from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    default_gates,
    feature,
    new_version,
    pins,
    record_evidence,
    request_gate,
)
from tests.factories import PASSWORD, TeamFactory, UserFactory
from tests.query_counts import assert_constant

pytestmark = pytest.mark.django_db

PEOPLE = "/people/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def password_client(user) -> Client:
    """A browser that signed in with the password (so its session is recorded, as a real one is)."""
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def person_url(user, suffix="") -> str:
    return f"/people/{user.username}/{suffix}"


# --- Who may see and change ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status",
    [
        ("governance_admin", 200),
        ("auditor", 200),
        ("product_owner", 403),
        ("security_reviewer", 403),
        ("outsider", 403),
    ],
)
def test_the_people_pages_are_for_governance_and_auditors(request, persona, status, ml_engineer):
    client = signed_in(request.getfixturevalue(persona))

    assert client.get(PEOPLE).status_code == status
    assert client.get(person_url(ml_engineer)).status_code == status


def test_someone_else_learns_nothing_about_who_has_an_account(client, product_owner, ml_engineer):
    """403 for an existing username and an unknown one alike: the answer does not say who exists."""
    client.force_login(product_owner)

    existing = client.get(person_url(ml_engineer))
    unknown = client.get("/people/no-such-person/")

    assert existing.status_code == unknown.status_code == 403


def test_an_auditor_reads_but_changes_nothing(client, auditor, ml_engineer):
    client.force_login(auditor)

    page = client.get(person_url(ml_engineer))
    grant = client.post(person_url(ml_engineer, "roles/grant/"), {"role": "security", "reason": "Cover."})
    deactivate = client.post(person_url(ml_engineer, "deactivate/"), {"reason": "Left."})

    assert page.status_code == 200
    assert b"Grant role" not in page.content and b"Deactivate" not in page.content
    assert grant.status_code == deactivate.status_code == 403
    assert not has_role(get_user_model().objects.get(pk=ml_engineer.pk), "security")
    assert get_user_model().objects.get(pk=ml_engineer.pk).is_active


# --- The list: who holds what, through which source ------------------------------------------------------


def test_the_list_shows_each_role_and_team_with_its_source(client, governance_admin, team):
    dana = UserFactory(username="dana", first_name="Dana", last_name="Ng")
    role_grant(actor=governance_admin, user=dana, role="security", reason="Joins the review board.")
    team_member_add(actor=None, team=team, user=dana, source=MembershipSource.IDP)
    client.force_login(governance_admin)

    response = client.get(PEOPLE, {"q": "dana"})

    [row] = response.context["rows"]
    assert [(h.key, h.source_values) for h in row["roles"]] == [("security", ["manual"])]
    assert [(h.key, h.source_values) for h in row["teams"]] == [("claims", ["idp"])]
    text = response.content.decode()
    assert "Security reviewer" in text and 'title="Granted in Gatehouse: Joins the review board."' in text
    assert 'title="Identity provider mapping"' in text


def test_a_membership_from_before_sources_counts_as_granted_in_gatehouse(client, governance_admin, product_owner):
    client.force_login(governance_admin)

    response = client.get(PEOPLE, {"q": product_owner.username})

    [row] = response.context["rows"]
    [source] = row["roles"][0].sources
    assert (source.source, source.recorded) == ("manual", False)


def test_filters_by_role_team_source_and_status(client, governance_admin, team, product_owner, ml_engineer):
    idp_person = UserFactory(username="ida")
    team_member_add(actor=None, team=team, user=idp_person, source=MembershipSource.IDP)
    gone = UserFactory(username="gone", roles=["ml"], is_active=False)
    client.force_login(governance_admin)

    def usernames(**query):
        response = client.get(PEOPLE, query)
        assert response.status_code == 200
        return {row["person"].username for row in response.context["rows"]}

    assert usernames(role="ml") == {ml_engineer.username, gone.username}
    assert usernames(team="claims") == {product_owner.username, ml_engineer.username, idp_person.username}
    assert usernames(source="idp") == {idp_person.username}
    assert idp_person.username not in usernames(source="manual")
    assert product_owner.username in usernames(source="manual")  # held since before sources were recorded
    assert usernames(status="deactivated") == {gone.username}
    assert usernames(q="mel-") == {ml_engineer.username}
    assert usernames(role="no-such-role") == set()  # an invalid filter shows nothing, never a 500


def test_the_list_shows_last_sign_in_sessions_and_tokens(client, governance_admin, ml_engineer):
    password_client(ml_engineer)
    password_client(ml_engineer)
    api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    revoked, _ = api_token_create(actor=ml_engineer, user=ml_engineer, name="old")
    ApiToken.objects.filter(pk=revoked.pk).update(revoked_at=revoked.created_at)
    client.force_login(governance_admin)

    [row] = client.get(PEOPLE, {"q": ml_engineer.username}).context["rows"]

    assert row["person"].live_sessions == 2
    assert row["person"].active_tokens == 1
    assert row["person"].last_login is not None


def test_the_list_costs_the_same_queries_for_many_people(client, governance_admin, team, django_assert_max_num_queries):
    other = TeamFactory(slug="payments", name="Payments")
    count = {"n": 0}

    def grow(n):
        for _ in range(n):
            count["n"] += 1
            person = UserFactory(username=f"person-{count['n']:03}", roles=["ml"])
            role_grant(actor=governance_admin, user=person, role="security", reason="Review board.")
            team_member_add(actor=governance_admin, team=team, user=person, reason="Joins.")
            team_member_add(actor=None, team=other, user=person, source=MembershipSource.IDP)
            api_token_create(actor=person, user=person, name="ci")
            UserSession.objects.create(user=person, session_key=f"key-{count['n']:03}")

    client.force_login(governance_admin)
    assert_constant(client, PEOPLE, grow, django_assert_max_num_queries, max_queries=20)


# --- Granting a role ------------------------------------------------------------------------------------


def test_governance_grants_a_role_with_a_reason(client, governance_admin, outsider):
    client.force_login(governance_admin)

    response = client.post(person_url(outsider, "roles/grant/"), {"role": "support", "reason": "Joins support."})

    assert response.status_code == 302
    assert has_role(get_user_model().objects.get(pk=outsider.pk), "support")
    event = AuditEvent.objects.filter(action="role.granted").latest("sequence")
    assert (event.actor_id, event.payload["reason"], event.payload["source"]) == (
        governance_admin.pk,
        "Joins support.",
        "manual",
    )


def test_a_grant_without_a_reason_is_refused_and_keeps_the_choice(client, governance_admin, outsider):
    client.force_login(governance_admin)

    response = client.post(person_url(outsider, "roles/grant/"), {"role": "support", "reason": "   "})

    assert response.status_code == 422
    assert "Say why: the reason is kept in the audit trail." in response.content.decode()
    assert response.context["grant_form"]["role"].value() == "support"
    assert not has_role(get_user_model().objects.get(pk=outsider.pk), "support")


def test_nobody_grants_themselves_a_role_and_the_form_says_why(client, governance_admin):
    client.force_login(governance_admin)

    response = client.post(person_url(governance_admin, "roles/grant/"), {"role": "security", "reason": "I review."})

    assert response.status_code == 403
    assert "Separation of duties: nobody grants themselves a role" in response.content.decode()
    assert response.context["grant_form"]["reason"].value() == "I review."
    assert not has_role(get_user_model().objects.get(pk=governance_admin.pk), "security")


def test_an_unknown_role_is_a_form_error_not_a_500(client, governance_admin, outsider):
    client.force_login(governance_admin)

    response = client.post(person_url(outsider, "roles/grant/"), {"role": "wizard", "reason": "Magic."})

    assert response.status_code == 422
    assert "Choose one of the roles listed." in response.content.decode()


def test_governance_adds_someone_to_a_team_from_their_page(client, governance_admin, outsider, team):
    client.force_login(governance_admin)

    response = client.post(person_url(outsider, "teams/join/"), {"team": "claims", "reason": "Claims rotation."})

    assert response.status_code == 302
    assert team.group.user_set.filter(pk=outsider.pk).exists()


# --- Revoking a role ------------------------------------------------------------------------------------


def test_revoking_a_role_lists_the_sign_off_it_withdraws_then_withdraws_it(
    client, new_version, record_evidence, request_gate, security_reviewer, governance_admin
):
    version = new_version()
    record_evidence(version)
    gate_request = request_gate(version)
    signoff = SignOff.objects.filter(request=gate_request, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")
    client.force_login(governance_admin)
    url = person_url(security_reviewer, "roles/security/revoke/")

    confirmation = client.get(url)

    assert confirmation.status_code == 200
    text = confirmation.content.decode()
    assert f"Their security reviewer sign-off on request #{gate_request.pk}" in text
    assert "will be withdrawn" in text
    signoff.refresh_from_db()
    assert signoff.status == SignOffStatus.APPROVED  # nothing happens until confirmed

    done = client.post(url, {"reason": "Moved to finance."})

    assert done.status_code == 302
    signoff.refresh_from_db()
    assert (signoff.status, signoff.signer_id) == (SignOffStatus.PENDING, None)
    assert not has_role(get_user_model().objects.get(pk=security_reviewer.pk), "security")
    assert AuditEvent.objects.filter(action="signoff.withdrawn").exists()


def test_a_revoke_needs_a_reason(client, governance_admin, security_reviewer):
    client.force_login(governance_admin)

    response = client.post(person_url(security_reviewer, "roles/security/revoke/"), {"reason": ""})

    assert response.status_code == 422
    assert "Say why" in response.content.decode()
    assert has_role(get_user_model().objects.get(pk=security_reviewer.pk), "security")


def test_the_last_governance_admin_keeps_the_role_and_the_page_says_so(client, governance_admin):
    client.force_login(UserFactory(username="root", is_superuser=True))

    response = client.post(person_url(governance_admin, "roles/governance/revoke/"), {"reason": "Stepping down."})

    assert response.status_code == 422
    assert "last active governance admin" in response.content.decode()
    assert response.context["form"]["reason"].value() == "Stepping down."


def test_the_revoke_page_warns_when_the_identity_provider_gives_the_role(client, governance_admin, team):
    from registry.services import role_grant as grant

    person = UserFactory(username="ida")
    grant(actor=None, user=person, role="ml", source=MembershipSource.IDP)
    client.force_login(governance_admin)

    response = client.get(person_url(person, "roles/ml/revoke/"))

    assert "Only the identity provider gives this role" in response.content.decode()


@pytest.mark.parametrize("url", ["roles/wizard/revoke/", "roles/%00/revoke/", "sessions/999999/end/"])
def test_junk_in_the_address_is_a_404_not_a_500(client, governance_admin, ml_engineer, url):
    client.force_login(governance_admin)

    response = (
        client.get(person_url(ml_engineer, url)) if "revoke" in url else client.post(person_url(ml_engineer, url))
    )

    assert response.status_code in (400, 404)


@pytest.mark.parametrize("username", ["no-such-person", "a" * 300, "%E2%80%AE", "x.y@z+w", "%20"])
def test_unknown_usernames_are_a_404(client, governance_admin, username):
    client.force_login(governance_admin)

    assert client.get(f"/people/{username}/").status_code == 404
    assert client.post(f"/people/{username}/roles/grant/", {"role": "ml", "reason": "x"}).status_code == 404


def test_revoking_a_role_not_held_says_so(client, governance_admin, outsider):
    client.force_login(governance_admin)

    response = client.get(person_url(outsider, "roles/legal/revoke/"), follow=True)

    assert "does not hold the legal reviewer role" in response.content.decode()


# --- Deactivation, sessions and tokens ---------------------------------------------------------------------


def test_deactivating_from_the_page_signs_them_out_and_revokes_their_tokens(client, governance_admin, ml_engineer):
    browser = password_client(ml_engineer)
    assert browser.get("/").status_code == 200
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    client.force_login(governance_admin)

    confirmation = client.get(person_url(ml_engineer, "deactivate/"))
    text = confirmation.content.decode()
    assert "1 signed-in session ends now" in text and "1 API token is revoked" in text

    done = client.post(person_url(ml_engineer, "deactivate/"), {"reason": "Left the company."})

    assert done.status_code == 302
    assert not get_user_model().objects.get(pk=ml_engineer.pk).is_active
    assert browser.get("/").status_code == 302  # signed out: to the sign-in page
    assert Client().get("/api/v1/features/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    event = AuditEvent.objects.filter(action="person.deactivated").latest("sequence")
    assert (event.payload["reason"], event.payload["sessions_ended"], event.payload["tokens_revoked"]) == (
        "Left the company.",
        1,
        1,
    )


def test_deactivation_needs_a_reason_and_nobody_deactivates_themselves(client, governance_admin, ml_engineer):
    client.force_login(governance_admin)

    no_reason = client.post(person_url(ml_engineer, "deactivate/"), {"reason": ""})
    own = client.post(person_url(governance_admin, "deactivate/"), {"reason": "Leaving."})

    assert no_reason.status_code == 422
    assert own.status_code == 403
    assert "your own account" in own.content.decode()
    assert get_user_model().objects.filter(pk__in=[ml_engineer.pk, governance_admin.pk], is_active=True).count() == 2


def test_a_deactivated_person_is_reactivated_with_a_reason(client, governance_admin, ml_engineer):
    client.force_login(governance_admin)
    client.post(person_url(ml_engineer, "deactivate/"), {"reason": "Leave of absence."})

    response = client.post(person_url(ml_engineer, "reactivate/"), {"reason": "Back from leave."})

    assert response.status_code == 302
    assert get_user_model().objects.get(pk=ml_engineer.pk).is_active
    assert AuditEvent.objects.filter(action="person.reactivated", payload__reason="Back from leave.").exists()


def test_governance_ends_one_session_and_that_browser_is_signed_out(client, governance_admin, ml_engineer):
    laptop, phone = password_client(ml_engineer), password_client(ml_engineer)
    client.force_login(governance_admin)
    laptop_key = laptop.session.session_key
    session = UserSession.objects.get(session_key=laptop_key)

    response = client.post(person_url(ml_engineer, f"sessions/{session.pk}/end/"))

    assert response.status_code == 302
    assert laptop.get("/").status_code == 302
    assert phone.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="session.ended", object_id=str(ml_engineer.pk)).exists()


def test_governance_ends_every_session_of_someone(client, governance_admin, ml_engineer):
    laptop, phone = password_client(ml_engineer), password_client(ml_engineer)
    client.force_login(governance_admin)

    client.post(person_url(ml_engineer, "sessions/end/"))

    assert laptop.get("/").status_code == phone.get("/").status_code == 302


def test_governance_revokes_someones_token(client, governance_admin, ml_engineer):
    token, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    client.force_login(governance_admin)

    response = client.post(person_url(ml_engineer, f"tokens/{token.pk}/revoke/"))

    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert Client().get("/api/v1/features/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_token_of_someone_else_is_not_found_under_this_person(client, governance_admin, ml_engineer, product_owner):
    token, _ = api_token_create(actor=product_owner, user=product_owner, name="ci")
    client.force_login(governance_admin)

    assert client.post(person_url(ml_engineer, f"tokens/{token.pk}/revoke/")).status_code == 404


def test_the_person_page_flags_open_work(
    client, new_version, record_evidence, request_gate, security_reviewer, governance_admin, feature, product_owner
):
    version = new_version()
    record_evidence(version)
    gate_request = request_gate(version)
    signoff = SignOff.objects.filter(request=gate_request, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")
    client.force_login(governance_admin)

    reviewer_page = client.get(person_url(security_reviewer)).content.decode()
    owner_page = client.get(person_url(product_owner)).content.decode()

    assert f"Request #{gate_request.pk}" in reviewer_page
    assert feature.name in owner_page and "accountable owner" in owner_page


def test_an_admin_who_ends_their_own_sessions_is_signed_out_cleanly(governance_admin):
    here, elsewhere = password_client(governance_admin), password_client(governance_admin)

    response = here.post(person_url(governance_admin, "sessions/end/"))

    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert here.get("/").status_code == elsewhere.get("/").status_code == 302


@pytest.mark.parametrize(
    "persona, shown", [("governance_admin", True), ("auditor", True), ("product_owner", False), ("outsider", False)]
)
def test_people_and_teams_are_in_the_navigation_of_those_who_read_them(request, persona, shown):
    text = signed_in(request.getfixturevalue(persona)).get("/").content.decode()

    assert ('href="/people/"' in text) is shown
    assert ('href="/teams/"' in text) is shown
    assert 'href="/account/"' in text


def test_gatehouses_own_account_is_not_a_person(client, governance_admin):
    from registry.services import system_user

    system_user()
    client.force_login(governance_admin)

    assert "gatehouse" not in {row["person"].username for row in client.get(PEOPLE).context["rows"]}
    assert client.get("/people/gatehouse/").status_code == 404
