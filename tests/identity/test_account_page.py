"""Each person's Account page: the roles and teams they hold and why, the browsers signed in as them (theirs
to end, one by one or all but this one), their API tokens, and links to the security and token pages."""

import pytest
from django.test import Client

from registry.choices import MembershipSource
from registry.models import AuditEvent, UserSession
from registry.services import api_token_create, role_grant, team_member_add
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ACCOUNT = "/account/"


def password_client(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_everyone_signed_in_has_an_account_page(outsider):
    client = password_client(outsider)

    response = client.get(ACCOUNT)

    assert response.status_code == 200
    text = response.content.decode()
    assert "You hold no role." in text and "You are in no team." in text
    assert 'href="/account/security/"' in text and 'href="/tokens/"' in text


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(ACCOUNT)["Location"].startswith("/accounts/login/")


def test_it_shows_my_roles_and_teams_with_their_sources(governance_admin, outsider, team):
    role_grant(actor=governance_admin, user=outsider, role="support", reason="Covers the help desk.")
    team_member_add(actor=None, team=team, user=outsider, source=MembershipSource.IDP)
    client = password_client(outsider)

    response = client.get(ACCOUNT)

    assert [(h.key, h.source_values) for h in response.context["roles"]] == [("support", ["manual"])]
    assert [(h.key, h.source_values) for h in response.context["teams"]] == [("claims", ["idp"])]
    text = response.content.decode()
    assert "Covers the help desk." in text and "Identity provider mapping" in text


def test_this_browser_is_marked_among_my_sessions(outsider):
    here, elsewhere = password_client(outsider), password_client(outsider)

    response = here.get(ACCOUNT)

    sessions = response.context["sessions"]
    assert len(sessions) == 2
    assert [session.is_current for session in sessions].count(True) == 1
    current = next(session for session in sessions if session.is_current)
    assert current.session_key == here.session.session_key
    assert "this browser" in response.content.decode()
    assert elsewhere.get("/").status_code == 200


def test_ending_another_session_signs_that_browser_out(outsider):
    here, elsewhere = password_client(outsider), password_client(outsider)
    other = UserSession.objects.get(session_key=elsewhere.session.session_key)

    response = here.post(f"/account/sessions/{other.pk}/end/")

    assert response.status_code == 302
    assert elsewhere.get("/").status_code == 302  # to the sign-in page
    assert here.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="session.ended", object_id=str(outsider.pk)).exists()


def test_sign_out_everywhere_else_keeps_this_browser(outsider):
    here, laptop, phone = password_client(outsider), password_client(outsider), password_client(outsider)

    response = here.post("/account/sessions/end-others/", follow=True)

    assert "Signed out 2 other sessions." in response.content.decode()
    assert laptop.get("/").status_code == phone.get("/").status_code == 302
    assert here.get("/").status_code == 200
    event = AuditEvent.objects.get(action="session.ended_all")
    assert event.payload["sessions_ended"] == 2 and event.payload["kept_current"] is True


def test_ending_this_session_signs_me_out(outsider):
    here = password_client(outsider)
    mine = UserSession.objects.get(session_key=here.session.session_key)

    response = here.post(f"/account/sessions/{mine.pk}/end/")

    assert response["Location"].startswith("/accounts/login/")
    assert here.get("/").status_code == 302


def test_nobody_ends_someone_elses_session_from_their_account(outsider, product_owner):
    victim = password_client(product_owner)
    theirs = UserSession.objects.get(session_key=victim.session.session_key)

    response = password_client(outsider).post(f"/account/sessions/{theirs.pk}/end/")

    assert response.status_code == 404
    assert victim.get("/").status_code == 200


def test_my_tokens_in_force_are_listed_with_a_revoke_button(outsider):
    live, _ = api_token_create(actor=outsider, user=outsider, name="laptop-script")
    client = password_client(outsider)

    response = client.get(ACCOUNT)

    assert [token.pk for token in response.context["tokens"]] == [live.pk]
    assert f'action="/tokens/{live.pk}/revoke/"' in response.content.decode()


def test_the_user_menu_links_the_account_page(outsider):
    assert 'href="/account/"' in password_client(outsider).get("/").content.decode()
