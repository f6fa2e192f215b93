"""Deactivation, whichever way it comes (SCIM, governance's service behind the pages and API, a plain save
in the admin or a command), ends the person's sessions and revokes their API tokens at once, and their open
work (approvals on pending requests, features and incidents they own) shows on governance's dashboard."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from approvals.models import SignOff
from approvals.services import signoff_decide
from identity.models import GroupMapping
from identity.selectors import deactivated_people_with_open_work
from incidents.models import Incident
from registry.models import AuditEvent, UserSession
from registry.permissions import forget_cached_rights, has_role
from registry.services import api_token_create, person_deactivate
from tests.factories import FeatureFactory, UserFactory
from tests.identity.conftest import ScimClient

pytestmark = pytest.mark.django_db
User = get_user_model()
FEATURES = "/api/v1/features/"


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    assert browser.get("/").status_code == 200
    return browser


def token_of(user) -> str:
    _token, raw = api_token_create(actor=user, user=user, name="laptop-cli", scopes=["read"])
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(FEATURES).status_code == 200
    return raw


def scim_id(scim, user) -> str:
    return scim.get("Users", filter=f'userName eq "{user.username}"').body["Resources"][0]["id"]


def assert_shut_out(browser: Client, raw: str, user) -> None:
    key = browser.session.session_key
    response = browser.get("/features/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not import_module(settings.SESSION_ENGINE).SessionStore().exists(key)  # ended, not just refused
    assert not UserSession.objects.filter(user=user).exists()
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(FEATURES).status_code == 401


def test_deactivation_over_scim_shuts_the_person_out_and_flags_their_open_work(
    scim, governance_admin, security_reviewer, new_version, record_evidence, request_gate, feature
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    signoff = SignOff.objects.filter(request=request, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")
    owned = FeatureFactory(slug="claims-chat", name="Claims chat", accountable_owner=security_reviewer)
    Incident.objects.create(
        title="Wrong answers",
        feature=owned,
        region=owned.regions.first(),
        severity="sev2",
        impact_start=timezone.now(),
        detected_at=timezone.now(),
        owner=security_reviewer,
        reporter=governance_admin,
        description="Answers cite the wrong policy.",
    )
    browser, raw = signed_in(security_reviewer), token_of(security_reviewer)

    response = scim.patch(
        f"Users/{scim_id(scim, security_reviewer)}", {"op": "replace", "path": "active", "value": False}
    )

    assert response.status_code == 200, response.content
    assert response.body["active"] is False
    assert_shut_out(browser, raw, security_reviewer)
    event = AuditEvent.objects.get(action="person.deactivated", object_id=str(security_reviewer.pk))
    assert (event.actor, event.source) == (governance_admin, "api")
    assert event.payload["source"] == "scim"
    assert event.payload["reason"] == "Deactivated by the identity provider (SCIM)"
    assert (event.payload["sessions_ended"], event.payload["tokens_revoked"]) == (1, 1)

    dashboard = signed_in(governance_admin).get("/").content.decode()
    assert 'id="deactivated-open-work"' in dashboard
    assert security_reviewer.username in dashboard
    assert f"request #{request.pk}" in dashboard
    assert "Accountable owner and incident owner of" in dashboard
    assert "Claims chat" in dashboard
    assert "incident #" in dashboard
    assert "by the identity provider (SCIM)" in dashboard

    [flagged] = deactivated_people_with_open_work(governance_admin)
    assert flagged.user == security_reviewer
    assert [item.pk for item in flagged.signoffs] == [signoff.pk]
    assert [(feature.slug, roles) for feature, roles in flagged.features] == [
        ("claims-chat", ["accountable owner", "incident owner"])
    ]
    assert len(flagged.incidents) == 1


def test_entra_style_patch_without_a_path_deactivates_too(scim, outsider):
    browser, raw = signed_in(outsider), token_of(outsider)
    response = scim.patch(f"Users/{scim_id(scim, outsider)}", {"op": "Replace", "value": {"active": "False"}})
    assert response.status_code == 200, response.content
    assert_shut_out(browser, raw, outsider)


def test_reactivation_lets_them_back_with_what_their_groups_give_and_no_old_token(scim):
    GroupMapping.objects.create(group_name="gh-ml", role="ml")
    created = scim.create_user("ren@example.com")
    user = User.objects.get(username="ren@example.com")
    raw = token_of(user)
    scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "active", "value": False})
    scim.create_group("gh-ml", created["id"])  # pushed while deactivated: nothing is granted yet
    forget_cached_rights(user)
    assert not has_role(User.objects.get(pk=user.pk), "ml")

    response = scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "active", "value": True})

    assert response.status_code == 200
    user = User.objects.get(pk=user.pk)
    assert user.is_active
    assert has_role(user, "ml")
    assert signed_in(user).get("/features/").status_code == 200
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(FEATURES).status_code == 401  # revoked for good
    event = AuditEvent.objects.get(action="person.reactivated")
    assert event.payload["reason"] == "Reactivated by the identity provider (SCIM)"


@pytest.mark.parametrize("path", ["scim put", "scim delete", "governance service", "plain save"])
def test_every_path_of_deactivation_ends_sessions_and_revokes_tokens(path, scim, governance_admin, product_owner):
    browser, raw = signed_in(product_owner), token_of(product_owner)

    if path == "scim put":
        identity = scim_id(scim, product_owner)
        response = scim.put(f"Users/{identity}", {"userName": product_owner.username, "active": False})
        assert response.status_code == 200, response.content
    elif path == "scim delete":
        assert scim.delete(f"Users/{scim_id(scim, product_owner)}").status_code == 204
    elif path == "governance service":  # what the people page and the API call
        person_deactivate(actor=governance_admin, user=product_owner, reason="Left the company.")
    else:  # Django's admin, a management command, a shell
        product_owner.is_active = False
        product_owner.save()

    assert_shut_out(browser, raw, product_owner)
    assert User.objects.filter(pk=product_owner.pk, is_active=False).exists()


def test_the_token_user_cannot_deactivate_themselves(scim, governance_admin):
    response = scim.patch(
        f"Users/{scim_id(scim, governance_admin)}", {"op": "replace", "path": "active", "value": False}
    )
    assert response.status_code == 403
    assert User.objects.get(pk=governance_admin.pk).is_active


def test_the_panel_is_for_governance_and_names_no_feature_a_viewer_may_not_see(
    scim, governance_admin, auditor, other_product_owner, other_team
):
    owner = UserFactory(username="rhea-restricted", teams=[other_team])
    FeatureFactory(
        slug="fraud-signals", name="Fraud signals", restricted=True, team=other_team, accountable_owner=owner
    )
    scim.patch(f"Users/{scim_id(scim, owner)}", {"op": "replace", "path": "active", "value": False})
    outsider = UserFactory(username="ozzy", roles=["product"])

    assert "Fraud signals" in signed_in(governance_admin).get("/").content.decode()
    for viewer in (other_product_owner, auditor, outsider):  # the team and auditors see the feature, not the panel
        assert 'id="deactivated-open-work"' not in signed_in(viewer).get("/").content.decode()
    assert "Fraud signals" not in signed_in(outsider).get("/").content.decode()
    assert deactivated_people_with_open_work(outsider) == []  # nor the person, whose only work it is
    for path in ("Users", "Groups", f"Users/{scim_id(scim, owner)}", "Schemas", "ResourceTypes"):
        assert "fraud" not in scim.get(path).content.decode().lower()


def test_nothing_to_flag_shows_no_panel(scim, governance_admin, outsider):
    scim.patch(f"Users/{scim_id(scim, outsider)}", {"op": "replace", "path": "active", "value": False})
    assert 'id="deactivated-open-work"' not in signed_in(governance_admin).get("/").content.decode()


# --- The token for the identity provider -------------------------------------------------------------


def test_governance_can_make_a_scim_token_on_the_token_page_and_others_cannot(governance_admin, product_owner):
    admin = signed_in(governance_admin)
    page = admin.get("/tokens/").content.decode()
    assert 'value="scim"' in page
    assert 'id="scim-provisioning"' in page
    assert "/scim/v2/" in page

    response = admin.post("/tokens/", {"name": "okta", "scopes": ["scim"], "expires": "never"})
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="scim-setup"' in body
    raw = body.split('id="new-token">')[1].split("<")[0]
    assert ScimClient(raw).get("Users").status_code == 200

    other = signed_in(product_owner)
    assert 'value="scim"' not in other.get("/tokens/").content.decode()
    assert 'id="scim-provisioning"' not in other.get("/tokens/").content.decode()
    refused = other.post("/tokens/", {"name": "sneaky", "scopes": ["scim"], "expires": "30"})
    assert refused.status_code == 400
    assert not product_owner.api_tokens.exists()


def test_the_service_keeps_the_scim_scope_to_governance_and_alone(governance_admin, product_owner):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        api_token_create(actor=product_owner, user=product_owner, name="x", scopes=["scim"])
    with pytest.raises(ValidationError):
        api_token_create(actor=governance_admin, user=governance_admin, name="x", scopes=["scim", "read"])
    with pytest.raises(ValidationError):  # governance may make tokens for others, but not a SCIM one for them
        api_token_create(actor=governance_admin, user=product_owner, name="x", scopes=["scim"])


def test_a_deactivation_by_governance_survives_a_push_that_repeats_active_true(scim, governance_admin):
    created = scim.create_user("gus@example.com")
    user = User.objects.get(username="gus@example.com")
    person_deactivate(actor=governance_admin, user=user, reason="Laptop stolen; access off until replaced.")

    repeat = scim.patch(
        f"Users/{created['id']}",
        {"op": "replace", "path": "name.givenName", "value": "Gus"},
        {"op": "replace", "path": "active", "value": True},
    )
    assert repeat.status_code == 200
    assert repeat.body["active"] is False  # the truth: still deactivated
    assert not User.objects.get(pk=user.pk).is_active

    # The identity provider itself turns them off and on: that is a reactivation it means.
    scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "active", "value": False})
    scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "active", "value": True})
    assert User.objects.get(pk=user.pk).is_active
