"""SCIM provisioning as an identity provider uses it: people and groups created, found, changed and removed
over /scim/v2/, with group mappings turned into roles and teams through the audited services."""

import json

import pytest
from django.contrib.auth import get_user_model

from identity.models import GroupMapping, ScimGroup, ScimUser
from registry.choices import MembershipSource
from registry.models import AuditEvent, Membership
from registry.permissions import forget_cached_rights, has_role, user_team_ids
from registry.services import api_token_create, role_grant, role_revoke
from tests.factories import UserFactory
from tests.identity.conftest import ERROR_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, ScimClient

pytestmark = pytest.mark.django_db
User = get_user_model()


def holds(user, role) -> bool:
    user = User.objects.get(pk=user.pk)
    forget_cached_rights(user)
    return has_role(user, role)


# --- People --------------------------------------------------------------------------------------


def test_a_person_created_over_scim_has_no_password_and_is_audited_as_an_api_write(scim, governance_admin):
    created = scim.create_user("bjensen@example.com", externalId="00u-okta-1")

    user = User.objects.get(username="bjensen@example.com")
    assert not user.has_usable_password()  # they sign in through the identity provider, never with a password
    assert (user.first_name, user.last_name, user.email, user.is_active) == (
        "Barbara",
        "Jensen",
        "bjensen@example.com",
        True,
    )
    assert created["id"] == str(user.scim.scim_id)
    assert created["externalId"] == "00u-okta-1"
    assert created["meta"]["location"].endswith(f"/scim/v2/Users/{created['id']}")
    event = AuditEvent.objects.get(action="person.provisioned")
    assert (event.actor, event.source, event.object_id) == (governance_admin, "api", str(user.pk))
    assert scim.client.login(username="bjensen@example.com", password="") is False


def test_answers_are_scim_json_and_created_resources_have_a_location(scim):
    response = scim.post(
        "Users", {"schemas": [USER_SCHEMA], "userName": "loc@example.com", "emails": [{"value": "loc@example.com"}]}
    )
    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    assert response["Location"] == response.body["meta"]["location"]
    assert response["Cache-Control"] == "no-store"


def test_the_identity_provider_finds_people_by_username_whatever_its_case_and_pages_through_them(scim, outsider):
    for number in range(5):
        scim.create_user(f"person{number}@example.com")

    found = scim.get("Users", filter='userName eq "PERSON3@example.com"').body
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "person3@example.com"

    existing = scim.get("Users", filter=f'userName eq "{outsider.username}"').body
    assert [user["userName"] for user in existing["Resources"]] == [outsider.username]  # made before SCIM: found

    assert scim.get("Users", filter='userName eq "nobody@example.com"').body["totalResults"] == 0
    first = scim.get("Users", filter='userName sw "person"', startIndex=1, count=2).body
    second = scim.get("Users", filter='userName sw "person"', startIndex=3, count=2).body
    assert (first["totalResults"], first["itemsPerPage"], first["startIndex"]) == (5, 2, 1)
    assert (second["itemsPerPage"], second["startIndex"]) == (2, 3)
    names = [user["userName"] for user in first["Resources"] + second["Resources"]]
    assert len(set(names)) == 4
    assert scim.get("Users", count=0).body["Resources"] == []


def test_filters_on_external_id_and_combinations(scim):
    scim.create_user("a@example.com", externalId="ext-a")
    scim.create_user("b@example.com", externalId="ext-b", active=False)

    assert [u["userName"] for u in scim.get("Users", filter='externalId eq "ext-b"').body["Resources"]] == [
        "b@example.com"
    ]
    both = scim.get("Users", filter='externalId eq "ext-a" or externalId eq "ext-b"').body
    assert both["totalResults"] == 2
    inactive = scim.get("Users", filter="externalId pr and active eq false").body
    assert [u["userName"] for u in inactive["Resources"]] == ["b@example.com"]


def test_a_replacement_changes_the_account(scim):
    created = scim.create_user("rename@example.com")
    body = {
        "schemas": [USER_SCHEMA],
        "userName": "renamed@example.com",
        "name": {"givenName": "Barb", "familyName": "Jensen-Smith", "formatted": "Barb Jensen-Smith"},
        "displayName": "Barb",
        "emails": [
            {"value": "home@example.com", "type": "home"},
            {"value": "work@example.com", "type": "work", "primary": True},
        ],
        "active": True,
    }

    response = scim.put(f"Users/{created['id']}", body)

    assert response.status_code == 200, response.content
    user = User.objects.get(pk=ScimUser.objects.get(scim_id=created["id"]).user_id)
    assert (user.username, user.first_name, user.last_name, user.email) == (
        "renamed@example.com",
        "Barb",
        "Jensen-Smith",
        "work@example.com",  # the primary address
    )
    assert response.body["name"]["formatted"] == "Barb Jensen-Smith"
    assert response.body["displayName"] == "Barb"
    assert len(response.body["emails"]) == 2
    assert "externalId" not in response.body


def test_a_taken_username_is_a_409_uniqueness_error(scim, outsider):
    response = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": outsider.username.upper()})
    assert response.status_code == 409
    assert response.body["schemas"] == [ERROR_SCHEMA]
    assert (response.body["status"], response.body["scimType"]) == ("409", "uniqueness")

    created = scim.create_user("second@example.com")
    clash = scim.patch(f"Users/{created['id']}", {"op": "replace", "path": "userName", "value": outsider.username})
    assert clash.status_code == 409


def test_delete_deactivates_and_hides_the_person_but_keeps_the_account(scim):
    created = scim.create_user("leaver@example.com")
    group = scim.create_group("gh-everyone", created["id"])

    assert scim.delete(f"Users/{created['id']}").status_code == 204

    assert scim.get(f"Users/{created['id']}").status_code == 404
    user = User.objects.get(username="leaver@example.com")  # the row stays: the audit trail names it
    assert not user.is_active
    assert scim.get(f"Groups/{group['id']}").body.get("members") is None
    assert scim.get("Users", filter='userName eq "leaver@example.com"').body["totalResults"] == 0
    assert AuditEvent.objects.filter(action="person.deprovisioned", object_id=str(user.pk)).exists()

    again = scim.create_user("leaver@example.com")  # the identity provider brings them back: the same account
    assert again["id"] == created["id"]
    user.refresh_from_db()
    assert user.is_active


def test_an_unknown_id_is_a_scim_404(scim):
    for path in ("Users/not-a-uuid", "Users/0b7c9d50-4f7e-4d1c-9b40-000000000000", "Groups/x", "Elsewhere"):
        response = scim.get(path)
        assert response.status_code == 404
        assert response.body["schemas"] == [ERROR_SCHEMA]
        assert response.body["status"] == "404"


# --- Groups and what they give ----------------------------------------------------------------------------


def test_a_group_pushed_with_a_mapping_gives_its_role_and_taking_the_member_out_takes_it_back(scim, team):
    GroupMapping.objects.create(group_name="gh-security", role="security")
    GroupMapping.objects.create(group_name="gh-security", team=team)
    alice = scim.create_user("alice@example.com")
    bob = scim.create_user("bob@example.com")
    alice_user = User.objects.get(username="alice@example.com")

    group = scim.create_group("gh-security", alice["id"])

    assert holds(alice_user, "security")
    assert team.pk in user_team_ids(User.objects.get(pk=alice_user.pk))
    grant = Membership.objects.get(user=alice_user, group__name="security")
    assert grant.source == MembershipSource.SCIM
    assert AuditEvent.objects.filter(action="role.granted", payload__source="scim").exists()

    # Okta's way: add one, remove one by a filtered path
    response = scim.patch(
        f"Groups/{group['id']}",
        {"op": "add", "path": "members", "value": [{"value": bob["id"]}]},
        {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'},
    )
    assert response.status_code == 200, response.content
    assert [member["value"] for member in response.body["members"]] == [bob["id"]]
    assert not holds(alice_user, "security")
    assert team.pk not in user_team_ids(User.objects.get(pk=alice_user.pk))
    assert holds(User.objects.get(username="bob@example.com"), "security")


def test_a_role_held_by_hand_stays_when_the_group_lets_go(scim, governance_admin):
    GroupMapping.objects.create(group_name="gh-legal", role="legal")
    carol = scim.create_user("carol@example.com")
    carol_user = User.objects.get(username="carol@example.com")
    role_grant(actor=governance_admin, user=carol_user, role="legal", reason="Covers the EU contracts.")
    group = scim.create_group("gh-legal", carol["id"])
    assert set(Membership.objects.filter(user=carol_user).values_list("source", flat=True)) == {"manual", "scim"}

    # Entra's way: remove with a value
    response = scim.patch(
        f"Groups/{group['id']}", {"op": "Remove", "path": "members", "value": [{"value": carol["id"]}]}
    )

    assert response.status_code == 200, response.content
    assert holds(carol_user, "legal")
    assert list(Membership.objects.filter(user=carol_user).values_list("source", flat=True)) == ["manual"]


def test_renaming_or_deleting_a_group_moves_what_it_gives(scim):
    GroupMapping.objects.create(group_name="gh-ml", role="ml")
    dan = scim.create_user("dan@example.com")
    dan_user = User.objects.get(username="dan@example.com")
    group = scim.create_group("gh-ml-old", dan["id"])
    assert not holds(dan_user, "ml")

    scim.patch(f"Groups/{group['id']}", {"op": "replace", "path": "displayName", "value": "gh-ml"})
    assert holds(dan_user, "ml")

    assert scim.delete(f"Groups/{group['id']}").status_code == 204
    assert not holds(dan_user, "ml")
    assert not ScimGroup.objects.exists()
    assert AuditEvent.objects.filter(action="scim_group.deleted").exists()


def test_a_replacement_sets_the_members(scim):
    GroupMapping.objects.create(group_name="gh-product", role="product")
    eve, fay = scim.create_user("eve@example.com"), scim.create_user("fay@example.com")
    group = scim.create_group("gh-product", eve["id"])

    response = scim.put(
        f"Groups/{group['id']}",
        {"schemas": [GROUP_SCHEMA], "displayName": "gh-product", "members": [{"value": fay["id"]}]},
    )

    assert response.status_code == 200
    assert not holds(User.objects.get(username="eve@example.com"), "product")
    assert holds(User.objects.get(username="fay@example.com"), "product")


def test_the_token_user_is_not_given_a_role_by_their_own_push(scim, governance_admin):
    """Separation of duties: the SCIM token acts as its user, who grants nobody a role, themselves least."""
    GroupMapping.objects.create(group_name="gh-auditors", role="auditor")
    own_id = scim.get("Users", filter=f'userName eq "{governance_admin.username}"').body["Resources"][0]["id"]

    response = scim.create_group("gh-auditors", own_id)

    assert [member["value"] for member in response["members"]] == [own_id]  # in the group...
    assert not holds(governance_admin, "auditor")  # ...without the role, and the audit event says why
    event = AuditEvent.objects.get(action="scim_group.created")
    assert "nobody grants themselves" in " ".join(event.payload["skipped"])


def test_group_names_are_unique_and_members_must_be_people_it_knows(scim):
    scim.create_group("gh-ops")
    clash = scim.post("Groups", {"schemas": [GROUP_SCHEMA], "displayName": "GH-OPS"})
    assert (clash.status_code, clash.body["scimType"]) == (409, "uniqueness")

    unknown = scim.post(
        "Groups",
        {"schemas": [GROUP_SCHEMA], "displayName": "gh-x", "members": [{"value": "0b7c9d50-4f7e-4d1c-9b40-0"}]},
    )
    assert (unknown.status_code, unknown.body["scimType"]) == (400, "invalidValue")
    nested = scim.post(
        "Groups",
        {"schemas": [GROUP_SCHEMA], "displayName": "gh-y", "members": [{"value": "abc", "type": "Group"}]},
    )
    assert (nested.status_code, nested.body["scimType"]) == (400, "invalidValue")
    assert "not" in nested.body["detail"]
    assert not ScimGroup.objects.filter(display_name__in=["gh-x", "gh-y"]).exists()


def test_groups_are_found_by_display_name(scim):
    scim.create_group("gh-one")
    scim.create_group("gh-two")
    found = scim.get("Groups", filter='displayName eq "GH-TWO"', excludedAttributes="members").body
    assert [group["displayName"] for group in found["Resources"]] == ["gh-two"]


# --- Who gets in --------------------------------------------------------------------------------------------


def _is_scim_error(response, status):
    body = json.loads(response.content)
    return (
        response.status_code == status
        and response["Content-Type"] == "application/scim+json"
        and body["schemas"] == [ERROR_SCHEMA]
        and body["status"] == str(status)
        and body["detail"]
    )


def test_no_token_or_a_wrong_one_is_a_scim_401(db):
    assert _is_scim_error(ScimClient(None).get("Users"), 401)
    assert _is_scim_error(ScimClient("gh_not-a-token").get("Users"), 401)
    assert ScimClient(None).get("Users")["WWW-Authenticate"].startswith("Bearer")


def test_other_scopes_and_sessions_are_a_scim_403(client, governance_admin):
    _token, read = api_token_create(actor=governance_admin, user=governance_admin, name="r", scopes=["read"])
    _token, full = api_token_create(actor=governance_admin, user=governance_admin, name="f", scopes=["full"])
    assert _is_scim_error(ScimClient(read).get("Users"), 403)
    assert _is_scim_error(ScimClient(full).post("Users", {"userName": "x"}), 403)
    client.force_login(governance_admin)
    assert _is_scim_error(client.get("/scim/v2/Users"), 403)
    assert _is_scim_error(client.get("/scim/v2/ServiceProviderConfig"), 403)


def test_a_scim_token_whose_user_is_no_longer_governance_is_refused(scim_token, governance_admin):
    second = UserFactory(username="second-admin", roles=["governance"])
    role_revoke(actor=second, user=governance_admin, role="governance", reason="Moved to another team.")

    response = ScimClient(scim_token).get("Users")

    assert _is_scim_error(response, 403)
    assert "governance" in json.loads(response.content)["detail"]


def test_a_revoked_scim_token_is_a_401(scim_token, governance_admin):
    from registry.models import ApiToken
    from registry.services import api_token_revoke

    api_token_revoke(actor=governance_admin, token=ApiToken.objects.get(user=governance_admin, scopes=["scim"]))
    assert _is_scim_error(ScimClient(scim_token).get("Users"), 401)


# --- Bad input never answers 500 -------------------------------------------------------------------------

BAD_BODIES = [
    "{not json",
    "[]",
    '"a string"',
    "{}",
    "[" * 5000 + "]" * 5000,
    json.dumps({"userName": ["a", "list"]}),
    json.dumps({"userName": "has space"}),
    json.dumps({"userName": "x" * 151}),
    json.dumps({"userName": "nul\u0000byte"}),
    json.dumps({"userName": "ok@example.com", "emails": [{"value": "not an email"}]}),
    json.dumps({"userName": "ok@example.com", "emails": "nope"}),
    json.dumps({"userName": "ok@example.com", "name": {"givenName": "x" * 151}}),
    json.dumps({"userName": "ok@example.com", "active": "sometimes"}),
    json.dumps({"userName": "ok@example.com", "displayName": "\u0000"}),
    json.dumps({"schemas": ["urn:nope"], "userName": "ok2@example.com", "externalId": "e" * 300}),
]
BAD_PATCHES = [
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "x"},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "explode"}]},
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove"}]},
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "remove", "path": "userName"}],
    },
    {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "active"}]},
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "id", "value": "x"}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "emails[type eq", "value": 1}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": {"a": 1}}],
    },
    {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"userName": ""}}],
    },
]
BAD_QUERIES = [
    {"filter": "userName eq"},
    {"filter": 'userName eq "a" and'},
    {"filter": 'nickName eq "a"'},
    {"filter": 'emails[type eq "work"]'},
    {"filter": "active gt true"},
    {"filter": 'id co "x"'},
    {"filter": 'urn:other:schema:userName eq "a"'},
    {"filter": "userName eq 5"},
    {"startIndex": "abc"},
    {"count": "1e9"},
    {"count": "-5"},
    {"startIndex": "-2"},
    {"sortBy": "userName"},
    {"attributes": "userName", "excludedAttributes": "name"},
    {"attributes": 'emails[type eq "work"]'},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_a_bad_user_body_is_a_scim_4xx_and_creates_nobody(scim, body):
    before = User.objects.count()
    response = scim.post("Users", body)
    assert 400 <= response.status_code < 500, response.content
    assert response.body["schemas"] == [ERROR_SCHEMA]
    assert User.objects.count() == before


@pytest.mark.parametrize("patch", BAD_PATCHES, ids=range(len(BAD_PATCHES)))
def test_a_bad_patch_is_a_scim_4xx_and_changes_nothing(scim, patch):
    created = scim.create_user("patched@example.com")
    response = scim._send("patch", f"Users/{created['id']}", patch)
    assert 400 <= response.status_code < 500, response.content
    assert response.body["schemas"] == [ERROR_SCHEMA]
    user = User.objects.get(username="patched@example.com")
    assert user.is_active


@pytest.mark.parametrize("params", BAD_QUERIES, ids=range(len(BAD_QUERIES)))
def test_a_bad_query_is_a_scim_4xx_or_an_answer(scim, params):
    response = scim.get("Users", **params)
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        assert response.body["schemas"] == [ERROR_SCHEMA]
        assert response.body["scimType"] in ("invalidFilter", "invalidValue", "invalidSyntax", "invalidPath")


def test_bad_group_input_is_a_scim_4xx(scim):
    group = scim.create_group("gh-fuzz")
    for body in (
        "{",
        "[]",
        json.dumps({"displayName": ""}),
        json.dumps({"displayName": "x" * 201}),
        json.dumps({"displayName": "ok", "members": "x"}),
        json.dumps({"displayName": "ok", "members": [{}]}),
    ):
        for method, path in (("post", "Groups"), ("put", f"Groups/{group['id']}")):
            response = scim._send(method, path, body)
            assert 400 <= response.status_code < 500, (method, body, response.content)
    response = scim.patch(f"Groups/{group['id']}", {"op": "add", "path": "members", "value": [{"value": "nope"}]})
    assert (response.status_code, response.body["scimType"]) == (400, "invalidValue")


def test_unsupported_requests_say_so(scim):
    assert scim.post(".search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}).status_code == 501
    assert scim.delete("ServiceProviderConfig").status_code == 405
    search = scim.post(
        "Users/.search",
        {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 'userName sw "gia"'},
    )
    assert search.status_code == 200
    assert search.body["totalResults"] == 1


def test_what_microsoft_entra_id_sends_is_understood(scim):
    """Entra ID's habits: a filtered path to an email that does not exist yet, capitalised ops, booleans as
    strings, a user created without emails."""
    created = scim.post(
        "Users",
        {
            "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "8f3c-objectid",
            "userName": "ada@contoso.example",
            "active": True,
            "displayName": "Ada Lovelace",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Risk"},
        },
    )
    assert created.status_code == 201, created.content
    response = scim.patch(
        f"Users/{created.body['id']}",
        {"op": "Add", "path": 'emails[type eq "work"].value', "value": "ada@contoso.example"},
        {"op": "Replace", "path": "name.givenName", "value": "Ada"},
        {"op": "Replace", "path": "active", "value": "False"},
    )
    assert response.status_code == 200, response.content
    assert response.body["emails"] == [{"value": "ada@contoso.example", "type": "work"}]
    user = User.objects.get(username="ada@contoso.example")
    assert (user.email, user.first_name, user.is_active) == ("ada@contoso.example", "Ada", False)


def test_a_nul_in_the_query_or_an_oversized_body_is_a_scim_error(scim, settings):
    nul = scim.client.get("/scim/v2/Users?filter=userName%20eq%20%22a%00%22")
    assert nul.status_code == 400
    assert json.loads(nul.content)["schemas"] == [ERROR_SCHEMA]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = scim.post("Users", {"schemas": [USER_SCHEMA], "userName": "big@example.com", "displayName": "x" * 2000})
    assert big.status_code == 413
    assert big.body["schemas"] == [ERROR_SCHEMA]
