"""Whatever an identity provider (or anyone holding its token) sends to /scim/v2/, the answer is a SCIM
answer: a 2xx, or a 4xx with a SCIM error body. Never a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.identity.conftest import ERROR_SCHEMA, GROUP_SCHEMA, PATCH_SCHEMA, USER_SCHEMA

pytestmark = pytest.mark.django_db

TEXT = st.text(max_size=40)
SCALARS = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | TEXT
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12
)
USER_KEYS = ["userName", "name", "displayName", "active", "emails", "externalId", "schemas", "id", "meta", "password"]
GROUP_KEYS = ["displayName", "members", "externalId", "schemas", "id"]
PATHS = [
    "active",
    "userName",
    "name",
    "name.givenName",
    "emails",
    'emails[type eq "work"].value',
    'emails[value eq "a@b.example"]',
    "displayName",
    "externalId",
    "members",
    'members[value eq "x"]',
    "meta",
    "id",
    "nickName",
    "emails[",
    "",
]
OPERATION = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "remove", "replace", "Replace", "Add", "Remove", "move", ""])},
    optional={"path": st.sampled_from(PATHS) | TEXT, "value": JSON},
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def body_of(keys, schema):
    return st.dictionaries(st.sampled_from(keys), JSON, max_size=6).map(lambda body: {"schemas": [schema], **body})


def assert_scim_answer(response):
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response.body["schemas"] == [ERROR_SCHEMA], response.content[:500]
        assert response.body["status"] == str(response.status_code)


@FUZZ
@given(body=body_of(USER_KEYS, USER_SCHEMA) | JSON)
def test_creating_people(scim, body):
    assert_scim_answer(scim.post("Users", json.dumps(body)))


@FUZZ
@given(body=body_of(GROUP_KEYS, GROUP_SCHEMA) | JSON)
def test_creating_groups(scim, body):
    assert_scim_answer(scim.post("Groups", json.dumps(body)))


@FUZZ
@given(operations=st.lists(OPERATION, max_size=3), replacement=body_of(USER_KEYS, USER_SCHEMA))
def test_changing_a_person(scim, operations, replacement):
    person = scim.get("Users", filter='userName eq "fuzz-target@example.com"').body["Resources"]
    target = person[0]["id"] if person else scim.create_user("fuzz-target@example.com")["id"]
    assert_scim_answer(scim._send("patch", f"Users/{target}", {"schemas": [PATCH_SCHEMA], "Operations": operations}))
    assert_scim_answer(scim.put(f"Users/{target}", replacement))


@FUZZ
@given(operations=st.lists(OPERATION, max_size=3), replacement=body_of(GROUP_KEYS, GROUP_SCHEMA))
def test_changing_a_group(scim, operations, replacement):
    found = scim.get("Groups", filter='displayName eq "gh-fuzz-target"').body["Resources"]
    target = found[0]["id"] if found else scim.create_group("gh-fuzz-target")["id"]
    assert_scim_answer(scim._send("patch", f"Groups/{target}", {"schemas": [PATCH_SCHEMA], "Operations": operations}))
    assert_scim_answer(scim.put(f"Groups/{target}", replacement))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["filter", "startIndex", "count", "attributes", "excludedAttributes"]), TEXT, max_size=3
    )
)
def test_listing(scim, params):
    for path in ("Users", "Groups"):
        assert_scim_answer(scim.get(path, **params))
