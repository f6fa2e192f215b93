"""The single sign-on page: governance edits which provider groups give which roles and teams (audited,
with a reason); auditors read it; nobody else sees it; the client secret is never shown."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from identity.models import GroupMapping, OidcIdentity
from identity.services import group_mappings_apply
from registry.models import AuditEvent
from registry.permissions import has_role
from registry.services.teams import role_grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PAGE = reverse("identity:oidc_mappings")


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def person_signed_in_with(groups, username="alice"):
    """Someone as a single sign-on leaves them: an identity with their last groups, mappings applied."""
    user = UserFactory(username=username)
    OidcIdentity.objects.create(user=user, issuer="https://idp.example.com", subject=username, groups=groups)
    group_mappings_apply(user=user, groups=groups)
    return get_user_model().objects.get(pk=user.pk)


def test_governance_adds_a_mapping_with_a_reason_and_it_is_audited(governance_admin, team):
    client = client_for(governance_admin)

    response = client.post(PAGE, {"group_name": " gh-security ", "gives": "role:security", "reason": "Security team"})
    client.post(PAGE, {"group_name": "staff", "gives": f"team:{team.pk}", "reason": "Everyone in Claims"})

    assert response.status_code == 302
    mapping = GroupMapping.objects.get(group_name="gh-security")
    assert mapping.role == "security" and mapping.created_by == governance_admin
    assert GroupMapping.objects.get(group_name="staff").team == team
    event = AuditEvent.objects.filter(action="identity.group_mapping_created").order_by("sequence").first()
    assert event.actor == governance_admin and event.payload == {
        "group": "gh-security",
        "role": "security",
        "team": None,
        "reason": "Security team",
    }
    page = client.get(PAGE).text
    assert "gh-security" in page and "Security reviewer" in page and "Claims" in page


def test_a_mapping_needs_a_reason_and_a_target_and_is_not_doubled(governance_admin):
    client = client_for(governance_admin)
    GroupMapping.objects.create(group_name="gh-security", role="security")

    no_reason = client.post(PAGE, {"group_name": "ops", "gives": "role:support", "reason": ""})
    no_target = client.post(PAGE, {"group_name": "ops", "gives": "", "reason": "x"})
    twice = client.post(PAGE, {"group_name": "gh-security", "gives": "role:security", "reason": "again"})

    assert no_reason.status_code == no_target.status_code == twice.status_code == 200
    assert "This field is required" in no_reason.text and "This field is required" in no_target.text
    assert "already gives that role" in twice.text
    assert GroupMapping.objects.count() == 1


def test_deleting_a_mapping_asks_for_a_reason_and_takes_the_role_away_now(governance_admin):
    mapping = GroupMapping.objects.create(group_name="gh-security", role="security")
    GroupMapping.objects.create(group_name="gh-appsec", role="security")
    alice = person_signed_in_with(["gh-security"])
    bob = person_signed_in_with(["gh-security", "gh-appsec"], username="bob")
    carol = person_signed_in_with(["gh-security"], username="carol")
    role_grant(actor=governance_admin, user=carol, role="security", reason="By hand")
    client = client_for(governance_admin)
    url = reverse("identity:oidc_mapping_delete", args=[mapping.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "3 people hold it through the identity provider" in confirm.text
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and GroupMapping.objects.filter(pk=mapping.pk).exists()
    done = client.post(url, {"reason": "Group retired at the provider"})

    assert done.status_code == 302 and not GroupMapping.objects.filter(pk=mapping.pk).exists()
    assert not has_role(get_user_model().objects.get(pk=alice.pk), "security")
    assert has_role(get_user_model().objects.get(pk=bob.pk), "security")  # another group still gives it
    assert has_role(get_user_model().objects.get(pk=carol.pk), "security")  # granted by hand too
    event = AuditEvent.objects.get(action="identity.group_mapping_deleted")
    assert event.payload["reason"] == "Group retired at the provider" and event.payload["group"] == "gh-security"
    revoked = AuditEvent.objects.get(action="role.revoked", object_id=str(alice.pk))
    assert "deleted by gia-governance" in revoked.payload["reason"]


def test_auditors_read_the_page_without_the_form_and_others_are_refused(auditor, security_reviewer):
    GroupMapping.objects.create(group_name="gh-security", role="security")

    read = client_for(auditor).get(PAGE)
    write = client_for(auditor).post(PAGE, {"group_name": "x", "gives": "role:auditor", "reason": "x"})
    other = client_for(security_reviewer).get(PAGE)
    delete = client_for(security_reviewer).get(
        reverse("identity:oidc_mapping_delete", args=[GroupMapping.objects.get().pk])
    )

    assert read.status_code == 200 and "gh-security" in read.text and "Add a mapping" not in read.text
    assert "Delete…" not in read.text
    assert write.status_code == other.status_code == delete.status_code == 403
    assert GroupMapping.objects.count() == 1


def test_the_page_shows_the_settings_but_never_the_secret(governance_admin, settings):
    settings.OIDC_ISSUER = "https://login.example.com/realms/acme"
    settings.OIDC_RP_CLIENT_ID = "gatehouse"
    settings.OIDC_RP_CLIENT_SECRET = "s3cr3t-value-never-shown"
    settings.PASSWORD_SIGN_IN = False
    settings.BREAK_GLASS_USERS = ["breakglass"]

    page = client_for(governance_admin).get(PAGE).text

    assert "https://login.example.com/realms/acme" in page and "gatehouse" in page
    assert "s3cr3t-value-never-shown" not in page
    assert "http://testserver/oidc/callback/" in page and "breakglass" in page
    assert "<dt>Password sign-in</dt><dd>off</dd>" in page


def test_groups_seen_without_a_mapping_are_listed_for_governance(governance_admin):
    GroupMapping.objects.create(group_name="gh-security", role="security")
    person_signed_in_with(["gh-security", "gh-data"])
    person_signed_in_with(["gh-data"], username="bob")

    page = client_for(governance_admin).get(PAGE).text

    unmapped = page.split("Groups seen at sign-in without a mapping", 1)[1]
    assert "gh-data" in unmapped and "gh-security" not in unmapped


def test_the_last_governance_admin_keeps_the_role_when_their_mapping_goes(governance_admin):
    admin_mapping = GroupMapping.objects.create(group_name="gh-admins", role="governance")
    sole = person_signed_in_with(["gh-admins"], username="sole")
    governance_admin.groups.clear()  # now sole is the only governance admin
    superuser = UserFactory(username="root", is_superuser=True)

    response = client_for(superuser).post(
        reverse("identity:oidc_mapping_delete", args=[admin_mapping.pk]), {"reason": "Reorganised"}, follow=True
    )

    assert response.status_code == 200 and "keeps Governance admin" in response.text
    assert has_role(get_user_model().objects.get(pk=sole.pk), "governance")
