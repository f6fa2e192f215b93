"""The release story through the API, every answer checked against the OpenAPI document: draft and
submit a version, record its evidence, request the production gate, each eligible reviewer signs from
their queue, promote, do it again with a second version, roll back, ask what was live then. Random
fuzzing rarely gets a promotion through; this walks the successful transitions a generated client
depends on (a bare list from ``promote``, 201 from ``rollback``, 404 from ``live-at``)."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    PRODUCTION_EVIDENCE,
    default_gates,
    feature,
    pins,
    second_ml_engineer,
)
from tests.approvals.test_api import as_user
from tests.fuzz.documented import call, openapi

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # the fuzzing suite: left out of `make test-fast`


def release(author, owner, *, catalog, number):
    """One version from draft to live in eu and us, through the API; returns the promotion's events."""
    version = call(
        author,
        "POST",
        "/api/v1/versions/",
        status=201,
        body={
            "feature": "claims-triage",
            "model": catalog["model"].pk,
            "prompt": catalog["prompt"].pk,
            "policy_pack": catalog["policy_pack"].pk,
            "change_summary": f"Release {number}.",
        },
    )
    assert version["number"] == number
    call(author, "GET", "/api/v1/versions/{id}/", path={"id": version["id"]}, status=200)
    call(author, "POST", "/api/v1/versions/{id}/submit/", path={"id": version["id"]}, status=200)
    for kind in PRODUCTION_EVIDENCE:
        evaluation = call(
            author,
            "POST",
            "/api/v1/evaluations/",
            status=201,
            body={
                "feature": "claims-triage",
                "version": number,
                "kind": kind,
                "suite": f"{kind}-suite",
                "metric": "score",
                "score": 0.92,
                "threshold": 0.8,
                "run_at": (timezone.now() - timedelta(hours=2)).isoformat(),
            },
        )
        assert (evaluation["version"], evaluation["version_id"]) == (number, version["id"])

    request = call(
        author,
        "POST",
        "/api/v1/approval-requests/",
        status=201,
        body={
            "feature": "claims-triage",
            "version": number,
            "environment": "production",
            "regions": ["eu", "us"],
        },
    )
    assert (request["version"], request["version_id"], request["status"]) == (number, version["id"], "pending")
    assert request["checks"] and all(check["met"] for check in request["checks"])
    call(owner, "GET", "/api/v1/approval-requests/", query={"feature": "claims-triage"}, status=200)

    users = get_user_model().objects
    for signoff in request["signoffs"]:
        assert signoff["eligible_signers"], signoff
        signer = as_user(users.get(username=signoff["eligible_signers"][0]))
        queue = call(signer, "GET", "/api/v1/queue/", status=200)
        assert signoff["id"] in {item["id"] for item in queue["results"]}
        call(signer, "GET", "/api/v1/signoffs/{id}/", path={"id": signoff["id"]}, status=200)
        signed = call(
            signer,
            "POST",
            "/api/v1/signoffs/{id}/decide/",
            path={"id": signoff["id"]},
            status=200,
            body={"decision": "approve", "reason": "Looks right."},
        )
        assert signed["status"] == "approved"

    approved = call(owner, "GET", "/api/v1/approval-requests/{id}/", path={"id": request["id"]}, status=200)
    assert approved["status"] == "approved"
    events = call(
        owner,
        "POST",
        "/api/v1/approval-requests/{id}/promote/",
        path={"id": request["id"]},
        status=201,
        body={"reason": f"Release {number}."},
    )
    assert sorted((event["region"], event["to_version"]) for event in events) == [("eu", number), ("us", number)]
    return events


@pytest.fixture
def reviewers(second_ml_engineer, security_reviewer, legal_reviewer, product_owner):  # noqa: F811
    return [second_ml_engineer, security_reviewer, legal_reviewer, product_owner]


def test_release_promote_and_roll_back_answer_as_documented(feature, pins, ml_engineer, product_owner, reviewers):  # noqa: F811
    author, owner = as_user(ml_engineer), as_user(product_owner)

    release(author, owner, catalog=pins, number=1)
    promoted = release(author, owner, catalog=pins, number=2)

    live = call(owner, "GET", "/api/v1/deployments/", query={"feature": "claims-triage"}, status=200)
    assert {(row["region"], row["version"]["number"]) for row in live["results"]} == {("eu", 2), ("us", 2)}
    rolled_back = call(
        owner,
        "POST",
        "/api/v1/deployments/rollback/",
        status=201,
        body={
            "feature": "claims-triage",
            "environment": "production",
            "region": "eu",
            "reason": "Complaints doubled.",
        },
    )
    assert (rolled_back["kind"], rolled_back["from_version"], rolled_back["to_version"]) == ("rolled_back", 2, 1)
    call(owner, "GET", "/api/v1/deployment-events/", query={"feature": "claims-triage"}, status=200)

    then = promoted[0]["at"]
    at_release = call(
        owner,
        "GET",
        "/api/v1/live-at/",
        status=200,
        query={"feature": "claims-triage", "environment": "production", "region": "us", "at": then},
    )
    assert at_release["version"]["number"] == 2
    before_anything = (timezone.now() - timedelta(days=365)).isoformat()
    nothing = call(
        owner,
        "GET",
        "/api/v1/live-at/",
        status=404,
        query={
            "feature": "claims-triage",
            "environment": "production",
            "region": "eu",
            "at": before_anything,
        },
    )
    assert nothing["code"] == "not_found"


def test_refusals_on_the_way_answer_as_documented(feature, pins, ml_engineer, product_owner, reviewers):  # noqa: F811
    author, owner = as_user(ml_engineer), as_user(product_owner)
    release(author, owner, catalog=pins, number=1)

    nothing_before = call(
        owner,
        "POST",
        "/api/v1/deployments/rollback/",
        status=409,
        body={
            "feature": "claims-triage",
            "environment": "production",
            "region": "eu",
            "reason": "Try.",
        },
    )
    assert nothing_before["code"] == "no_rollback_target"
    request_id = call(owner, "GET", "/api/v1/approval-requests/", status=200)["results"][0]["id"]
    used = call(owner, "POST", "/api/v1/approval-requests/{id}/promote/", path={"id": request_id}, status=409, body={})
    assert used["code"] == "approval_used"


# --- The document itself ---------------------------------------------------------------------------


def test_the_document_lists_every_error_code_once_and_every_error_answer_carries_one():
    from core.error_codes import CODES

    raw, _ = openapi()
    schemas = raw["components"]["schemas"]
    assert schemas["ErrorCode"]["enum"] == list(CODES)
    assert "code" in schemas["ErrorDetail"]["required"] and "code" in schemas["ValidationErrorDetail"]["required"]
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert "content" in response, (method, path, status)


def test_the_document_describes_promote_rollback_live_at_and_findings_as_they_answer():
    raw, _ = openapi()
    promote = raw["paths"]["/api/v1/approval-requests/{id}/promote/"]["post"]
    assert promote["responses"]["201"]["content"]["application/json"]["schema"]["type"] == "array"
    assert [parameter["name"] for parameter in promote["parameters"]] == [
        "id",
        "Idempotency-Key",
    ]  # no filters, no paging
    assert "201" in raw["paths"]["/api/v1/deployments/rollback/"]["post"]["responses"]
    assert "200" not in raw["paths"]["/api/v1/deployments/rollback/"]["post"]["responses"]
    assert "404" in raw["paths"]["/api/v1/live-at/"]["get"]["responses"]
    close_reason = raw["components"]["schemas"]["Finding"]["properties"]["close_reason"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in close_reason["oneOf"]
    for path, item in raw["paths"].items():
        for method, operation in item.items():
            if method != "get":
                assert not [p for p in operation.get("parameters", []) if p["in"] == "query"], (method, path)
