"""Single sign-on through a real OpenID provider (node-oidc-provider on loopback): people are found by
the provider's subject, created at their first sign-in, given the roles and teams their groups map to at
every sign-in; every way a sign-in can fail gives the person a page and the operator a log line."""

import html
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from identity import oidc
from identity.models import GroupMapping, OidcIdentity
from registry.choices import MembershipSource
from registry.models import AuditEvent, Membership, UserSession
from registry.permissions import has_role
from registry.services.teams import role_grant
from tests.factories import PASSWORD, UserFactory
from tests.identity.oidc_provider import closed_port, path_of, through_provider

pytestmark = pytest.mark.django_db

ALICE = {"email": "alice@example.com", "given_name": "Alice", "family_name": "Doe", "groups": ["gh-security", "staff"]}


def start(client, next_url=None):
    response = client.get(reverse("identity:oidc_start"), {"next": next_url} if next_url else None)
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def sign_in(client, login="alice"):
    """The whole round trip: Gatehouse → the provider's sign-in form → back to Gatehouse's callback."""
    return client.get(path_of(through_provider(start(client), login)))


def signed_in_user(client):
    return get_user_model().objects.filter(pk=client.session.get("_auth_user_id")).first()


def fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def actions(**filters):
    return list(AuditEvent.objects.filter(**filters).order_by("sequence").values_list("action", flat=True))


@pytest.fixture
def mappings(team):
    return [
        GroupMapping.objects.create(group_name="gh-security", role="security"),
        GroupMapping.objects.create(group_name="staff", team=team),
    ]


def test_the_first_sign_in_creates_the_person_with_the_roles_and_teams_their_groups_map_to(sso, mappings, team):
    sso.set_accounts({"alice": ALICE})
    client = Client()

    response = sign_in(client)

    assert response.status_code == 302 and response["Location"] == reverse("registry:home")
    alice = signed_in_user(client)
    assert alice.username == "alice" and alice.email == "alice@example.com" and alice.get_full_name() == "Alice Doe"
    assert not alice.has_usable_password()  # a password sign-in is not a way in for a person the IdP made
    identity = OidcIdentity.objects.get(user=alice)
    assert (identity.issuer, identity.subject, identity.groups) == (sso.issuer, "alice", ["gh-security", "staff"])
    assert has_role(alice, "security") and alice.groups.filter(pk=team.group.pk).exists()
    assert set(Membership.objects.filter(user=alice).values_list("source", flat=True)) == {MembershipSource.IDP}
    created = AuditEvent.objects.get(action="person.created", object_id=str(alice.pk))
    assert created.payload["source"] == "idp" and created.actor is None
    granted = AuditEvent.objects.get(action="role.granted", object_id=str(alice.pk))
    assert granted.payload["source"] == "idp" and "gh-security" in granted.payload["reason"]
    assert UserSession.objects.get(user=alice).method == "sso"
    assert client.get(reverse("registry:home")).status_code == 200


def test_leaving_a_group_at_the_provider_removes_its_role_at_the_next_sign_in_and_manual_grants_stay(
    sso, mappings, team, governance_admin
):
    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    alice = get_user_model().objects.get(username="alice")
    role_grant(actor=governance_admin, user=alice, role="legal", reason="On the AI review board")
    role_grant(actor=governance_admin, user=alice, role="security", reason="Also granted by hand")

    sso.set_accounts({"alice": {**ALICE, "groups": ["staff"]}})
    sign_in(Client())
    alice = fresh(alice)
    assert has_role(alice, "security")  # the manual grant still holds it
    assert not Membership.objects.filter(user=alice, group__name="security", source="idp").exists()

    sso.set_accounts({"alice": {**ALICE, "groups": []}})
    client = Client()
    sign_in(client)
    alice = fresh(alice)
    assert has_role(alice, "legal", "security") and not alice.groups.filter(pk=team.group.pk).exists()
    left = AuditEvent.objects.filter(action="team.member_removed", object_id=str(team.pk)).last()
    assert left.payload["source"] == "idp" and left.actor is None
    assert OidcIdentity.objects.get(user=alice).groups == []


def test_a_role_given_only_by_the_provider_goes_when_the_group_goes(sso, mappings):
    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    sso.set_accounts({"alice": {**ALICE, "groups": ["staff"]}})
    sign_in(Client())

    alice = get_user_model().objects.get(username="alice")
    assert not has_role(alice, "security")
    revoked = AuditEvent.objects.filter(action="role.revoked", object_id=str(alice.pk)).last()
    assert revoked.payload["source"] == "idp" and revoked.payload["left"] is True


def test_people_are_matched_by_subject_never_by_email_or_username(sso, mappings):
    local = UserFactory(username="alice", email="alice@example.com", roles=["governance"])
    sso.set_accounts({"alice": ALICE})

    client = Client()
    sign_in(client)
    newcomer = signed_in_user(client)
    assert newcomer.pk != local.pk and newcomer.username == "alice-2"
    assert not OidcIdentity.objects.filter(user=local).exists() and fresh(local).check_password(PASSWORD)

    # A new username at the provider is still the same person: the subject did not change.
    sso.set_accounts({"alice": {**ALICE, "preferred_username": "alice.doe", "email": "a.doe@example.com"}})
    client = Client()
    sign_in(client)
    assert signed_in_user(client).pk == newcomer.pk and fresh(newcomer).email == "a.doe@example.com"


def test_the_password_and_api_tokens_are_left_alone_at_sign_in(sso, mappings):
    from registry.services.tokens import api_token_create

    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    alice = get_user_model().objects.get(username="alice")
    token, _ = api_token_create(actor=alice, user=alice, name="ci")

    sign_in(Client())

    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_deactivated_person_is_refused_with_a_page_and_a_log_line(sso, mappings, caplog):
    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    get_user_model().objects.filter(username="alice").update(is_active=False)
    client = Client()

    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = sign_in(client)

    assert response.status_code == 403
    assert "Single sign-on failed" in response.text and "deactivated" in response.text
    assert "OIDC sign-in refused: alice is deactivated in Gatehouse" in caplog.text
    assert signed_in_user(client) is None


def test_a_wrong_client_secret_gives_a_clear_page_and_names_the_setting_in_the_log(sso, settings, caplog):
    settings.OIDC_RP_CLIENT_SECRET = "not-the-secret"
    sso.set_accounts({"alice": ALICE})
    client = Client()

    with caplog.at_level(logging.ERROR, logger="gatehouse.identity"):
        response = sign_in(client)

    assert response.status_code == 400
    assert "Single sign-on failed" in response.text and "misconfigured" in response.text
    assert "not-the-secret" not in response.text
    assert "OIDC token exchange refused: invalid_client" in caplog.text and "OIDC_CLIENT_SECRET" in caplog.text
    assert signed_in_user(client) is None


def test_a_client_secret_with_reserved_characters_works(sso, settings):
    settings.OIDC_RP_CLIENT_ID = "gatehouse-reserved"
    settings.OIDC_RP_CLIENT_SECRET = "a+b/c:d%e&f=g h"  # form-encoded in the Basic credentials, as the spec says
    sso.set_accounts({"alice": ALICE})
    client = Client()

    assert sign_in(client).status_code == 302 and signed_in_user(client).username == "alice"


def test_a_code_used_twice_is_refused_as_expired(sso, caplog):
    sso.set_accounts({"alice": ALICE})
    client = Client()
    first = through_provider(start(client), "alice")
    client.get(path_of(first))  # signed in: the code is spent
    second = through_provider(start(client), "alice")
    state = parse_qs(urlsplit(second).query)["state"][0]
    code = parse_qs(urlsplit(first).query)["code"][0]

    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = client.get(reverse("identity:oidc_callback"), {"code": code, "state": state})

    assert response.status_code == 400 and "expired or was already used" in response.text
    assert "OIDC token exchange refused: invalid_grant" in caplog.text


def test_an_answer_for_another_session_state_mismatch_is_refused(sso, caplog):
    sso.set_accounts({"alice": ALICE})
    answer = through_provider(start(Client()), "alice")  # begun in another browser
    client = Client()
    start(client)

    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = client.get(path_of(answer))

    assert response.status_code == 400 and "expired or was already used" in response.text
    assert "OIDC callback state mismatch" in caplog.text
    assert signed_in_user(client) is None
    assert not get_user_model().objects.filter(username="alice").exists()


def test_the_same_answer_twice_is_refused_the_second_time(sso):
    sso.set_accounts({"alice": ALICE})
    client = Client()
    answer = path_of(through_provider(start(client), "alice"))
    assert client.get(answer).status_code == 302
    client.post(reverse("logout"))

    assert client.get(answer).status_code == 400


def test_an_error_from_the_provider_is_shown_not_raised(sso, caplog):
    client = Client()
    state = parse_qs(urlsplit(start(client)).query)["state"][0]

    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = client.get(
            reverse("identity:oidc_callback"),
            {"error": "access_denied", "error_description": "End-User aborted interaction", "state": state},
        )

    assert response.status_code == 400 and "did not sign you in (access_denied)" in response.text
    assert "OIDC provider answered the sign-in with error 'access_denied'" in caplog.text


def test_a_missing_groups_claim_signs_in_with_no_roles_from_the_provider_and_warns(sso, mappings, caplog):
    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    sso.set_accounts({"alice": {key: value for key, value in ALICE.items() if key != "groups"}})
    client = Client()

    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = client.get(path_of(through_provider(start(client), "alice")), follow=True)

    alice = signed_in_user(client)
    assert alice is not None and not has_role(alice, "security")
    assert not Membership.objects.filter(user=alice, source="idp").exists()
    assert "sent no group information" in response.text
    assert "no 'groups' claim" in caplog.text and "OIDC_GROUPS_CLAIM" in caplog.text


def test_an_unreachable_issuer_gives_a_page_and_a_log_line_and_the_password_page_still_works(settings, caplog):
    settings.OIDC_ISSUER = f"http://127.0.0.1:{closed_port()}"
    settings.OIDC_RP_CLIENT_ID = "gatehouse"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    oidc.forget_discovery()
    client = Client()

    login_page = client.get(reverse("login"))
    assert login_page.status_code == 200 and "Sign in with single sign-on" in login_page.text
    with caplog.at_level(logging.ERROR, logger="gatehouse.identity"):
        response = client.get(reverse("identity:oidc_start"))

    assert response.status_code == 400 and "could not be reached" in response.text
    assert "OIDC discovery failed" in caplog.text and "check OIDC_ISSUER" in caplog.text
    user = UserFactory(username="pat")
    assert client.post(reverse("login"), {"username": "pat", "password": PASSWORD}).status_code == 302
    assert signed_in_user(client) == user


def test_an_issuer_that_names_itself_differently_is_refused(sso, settings, caplog):
    settings.OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")

    with caplog.at_level(logging.ERROR, logger="gatehouse.identity"):
        response = Client().get(reverse("identity:oidc_start"))

    assert response.status_code == 400 and "misconfigured" in response.text
    assert "set OIDC_ISSUER to the provider's issuer exactly" in caplog.text


def test_without_an_issuer_single_sign_on_leaves_no_trace(settings):
    settings.OIDC_ISSUER = ""
    client = Client()

    assert "Sign in with" not in client.get(reverse("login")).text
    assert client.get(reverse("identity:oidc_start")).status_code == 404
    assert client.get(reverse("identity:oidc_callback"), {"code": "x", "state": "y"}).status_code == 404


def test_a_single_sign_on_session_is_not_asked_for_the_local_second_factor(sso):
    sso.set_accounts({"alice": ALICE})
    sign_in(Client())
    alice = get_user_model().objects.get(username="alice")
    TOTPDevice.objects.create(user=alice, name="Phone", confirmed=True)
    client = Client()

    sign_in(client)

    assert client.get(reverse("registry:feature_list")).status_code == 200


def test_the_sign_in_returns_to_the_page_asked_for(sso):
    sso.set_accounts({"alice": ALICE})
    client = Client()

    response = client.get(path_of(through_provider(start(client, next_url="/features/"), "alice")))

    assert response["Location"] == "/features/"


def test_sign_out_ends_the_session_and_the_providers(sso):
    sso.set_accounts({"alice": ALICE})
    client = Client()
    sign_in(client)

    response = client.post(reverse("logout"))

    assert response.status_code == 200 and "Signed out of Gatehouse" in response.text
    forward = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', response.text).group(1)
    target = urlsplit(html.unescape(forward))
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}" == sso.issuer and target.path == "/session/end"
    assert query["post_logout_redirect_uri"] == ["http://testserver/accounts/login/"] and query["id_token_hint"]
    assert signed_in_user(client) is None
    assert client.get(reverse("registry:home"))["Location"].startswith(reverse("login"))


def test_sign_out_stays_in_gatehouse_when_told_to(sso, settings):
    settings.OIDC_SIGN_OUT_AT_PROVIDER = False
    sso.set_accounts({"alice": ALICE})
    client = Client()
    sign_in(client)

    response = client.post(reverse("logout"))

    assert response["Location"] == reverse("login") and signed_in_user(client) is None


# --- Password sign-in switched off ------------------------------------------------------------------


@pytest.fixture
def passwords_off(settings, sso):
    settings.PASSWORD_SIGN_IN = False
    settings.BREAK_GLASS_USERS = ["breakglass"]


def test_with_passwords_off_a_normal_account_is_refused_with_the_reason(passwords_off, outsider):
    client = Client()

    page = client.get(reverse("login"))
    response = client.post(reverse("login"), {"username": outsider.username, "password": PASSWORD})

    assert "Sign in with Test IdP" in page.text and "Break-glass account?" in page.text
    assert response.status_code == 200 and signed_in_user(client) is None
    assert "Password sign-in is switched off: sign in with Test IdP" in response.text


def test_with_passwords_off_a_break_glass_account_signs_in_and_it_is_audited(passwords_off):
    user = UserFactory(username="breakglass", roles=["governance"])
    client = Client()

    response = client.post(reverse("login"), {"username": "breakglass", "password": PASSWORD})

    assert response.status_code == 302 and signed_in_user(client) == user
    event = AuditEvent.objects.get(action="person.break_glass_sign_in")
    assert event.actor == user and event.payload["user"] == "breakglass"


def test_with_passwords_off_django_admin_refuses_a_password_too(passwords_off):
    UserFactory(username="staffer", is_staff=True, is_superuser=True)
    client = Client()

    response = client.post("/admin/login/", {"username": "staffer", "password": PASSWORD})

    assert response.status_code == 200 and "Password sign-in is switched off" in response.text
    assert signed_in_user(client) is None


def test_with_passwords_on_no_sign_in_is_audited_as_break_glass(settings, outsider):
    settings.BREAK_GLASS_USERS = [outsider.username]
    Client().post(reverse("login"), {"username": outsider.username, "password": PASSWORD})

    assert not actions(action="person.break_glass_sign_in")


def test_groups_can_come_from_a_nested_claim_and_names_fall_back_to_email(team):
    """Keycloak's realm roles, say: OIDC_GROUPS_CLAIM=realm_access.roles; no preferred_username: the email."""
    from identity.services import oidc_sign_in

    GroupMapping.objects.create(group_name="gatehouse-security", role="security")
    claims = {"sub": "f3c1", "email": "sam@example.com", "realm_access": {"roles": ["gatehouse-security", "x"]}}

    signed_in = oidc_sign_in(
        issuer="https://sso.example.com/realms/acme",
        claims=claims,
        groups_claim="realm_access.roles",
        username_claim="preferred_username",
    )

    assert signed_in.user.username == "sam@example.com" and signed_in.groups == ["gatehouse-security", "x"]
    assert has_role(signed_in.user, "security")


def test_a_person_provisioned_over_scim_signs_in_to_the_same_account(sso, mappings):
    """SCIM made the account before the first sign-in: the provider's subject is linked to it, not a copy."""
    from identity.models import ScimUser

    provisioned = get_user_model().objects.create_user("alice")  # as SCIM makes people: no password
    ScimUser.objects.create(user=provisioned, external_id="alice")
    sso.set_accounts({"alice": ALICE})
    client = Client()
    sign_in(client)
    assert signed_in_user(client) == provisioned
    assert OidcIdentity.objects.get(user=provisioned).subject == "alice"
    assert "person.sso_linked" in actions(object_id=str(provisioned.pk))
    assert not get_user_model().objects.filter(username="alice-2").exists()


def test_a_local_account_with_a_password_is_not_taken_over_even_if_scim_has_seen_it(sso, mappings):
    local = UserFactory(username="alice")  # has a password of its own
    from identity.models import ScimUser

    ScimUser.objects.create(user=local, external_id="alice")
    sso.set_accounts({"alice": ALICE})
    client = Client()
    sign_in(client)
    assert signed_in_user(client) != local
    assert not OidcIdentity.objects.filter(user=local).exists()


def test_someone_who_left_the_access_group_is_refused_and_deactivated_with_sessions_and_tokens_gone(
    sso, mappings, settings, caplog
):
    from registry.models import ApiToken
    from registry.services import api_token_create

    settings.OIDC_ACCESS_GROUP = "staff"
    sso.set_accounts({"alice": ALICE})
    first = Client()
    sign_in(first)
    alice = signed_in_user(first)
    api_token_create(actor=alice, user=alice, name="laptop", scopes=["read"])

    sso.set_accounts({"alice": {**ALICE, "groups": ["gh-security"]}})  # no longer in "staff"
    with caplog.at_level(logging.WARNING, logger="gatehouse.identity"):
        response = sign_in(Client())
    assert response.status_code == 403
    assert "does not give you access to Gatehouse" in response.content.decode()
    assert "OIDC_ACCESS_GROUP" in caplog.text
    assert not fresh(alice).is_active
    assert not ApiToken.objects.filter(user=alice, revoked_at__isnull=True).exists()
    assert first.get(reverse("registry:home")).status_code == 302  # the open session ended too
    assert "person.deactivated" in actions(object_id=str(alice.pk))


def test_a_newcomer_outside_the_access_group_gets_no_account(sso, settings):
    settings.OIDC_ACCESS_GROUP = "staff"
    sso.set_accounts({"alice": {**ALICE, "groups": ["contractors"]}})
    response = sign_in(Client())
    assert response.status_code == 403
    assert not OidcIdentity.objects.exists()


def test_without_a_groups_claim_the_access_group_cannot_be_checked_so_the_sign_in_is_refused(sso, settings):
    settings.OIDC_ACCESS_GROUP = "staff"
    sso.set_accounts({"alice": {key: value for key, value in ALICE.items() if key != "groups"}})
    assert sign_in(Client()).status_code == 403
    assert not OidcIdentity.objects.exists()
