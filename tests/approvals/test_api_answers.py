"""What a machine learns from the gates' API, as a person learns it from the pages: each requirement of a
request met or not and why, who may still sign each open slot, a stable ``code`` on every refusal (a
freeze, stale evidence, an expired approval, separation of duties...), and ``version`` meaning the
version's number everywhere (``version_id`` its id)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import ApprovalRequest
from core.error_codes import EVIDENCE_STALE, Reason
from incidents.services import incident_open
from registry import extensions
from registry.models import Deployment, Evaluation
from registry.services import evaluation_record
from tests.approvals.conftest import days_ago, pending_signoff
from tests.approvals.test_api import REQUESTS, as_user, decide_url, promote_url
from tests.factories import FeatureFactory, RegionFactory, UserFactory

EVALUATIONS = "/api/v1/evaluations/"


@pytest.fixture
def version(new_version, team, eu, us):
    # Another feature's draft first, so a version's id and its number differ.
    new_version(target=FeatureFactory(slug="claims-intake", team=team, regions=[eu, us]), submit=False)
    return new_version()


# --- Requirements met or not ---------------------------------------------------------------------


def test_a_request_answers_which_requirement_is_met_and_why(product_owner, version, record_evidence, request_gate):
    record_evidence(version, kinds=("benchmark", "privacy_review"))
    request = request_gate(version)

    body = as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json()

    checks = {check["key"]: check for check in body["checks"]}
    assert checks["safety"] == {
        "kind": "evidence",
        "key": "safety",
        "label": "Safety",
        "met": False,
        "state": "missing",
        "detail": "No safety evaluation recorded.",
    }
    assert checks["benchmark"]["met"] is True and checks["benchmark"]["state"] == "ok"
    assert checks["benchmark"]["detail"].startswith("0.92 on ")
    assert {key for key, check in checks.items() if check["kind"] == "readiness"} == set(
        request.requirements["readiness"]
    )
    assert all(check["met"] for check in checks.values() if check["kind"] == "readiness")


def test_the_request_list_carries_the_same_checks(product_owner, version, record_evidence, request_gate):
    record_evidence(version, kinds=("benchmark",))
    request = request_gate(version)

    [listed] = as_user(product_owner).get(REQUESTS).json()["results"]

    assert listed["checks"] == as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json()["checks"]
    assert {check["key"] for check in listed["checks"] if not check["met"]} == {"safety", "privacy_review"}


# --- Who may still sign ----------------------------------------------------------------------------


def eligible(body):
    return {(signoff["role"], signoff["slot"]): signoff["eligible_signers"] for signoff in body["signoffs"]}


def test_each_open_slot_names_who_may_still_sign_it(
    product_owner,
    ml_engineer,
    second_ml_engineer,
    security_reviewer,
    legal_reviewer,
    version,
    request_gate,
):
    UserFactory(username="ivy-ml-inactive", roles=["ml"], is_active=False)
    both = UserFactory(username="rex-security-legal", roles=["security", "legal"])
    request = request_gate(version)  # the ML engineer wrote, submitted and requested it

    before = eligible(as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json())
    as_user(both).post(decide_url(pending_signoff(request, "security")), {"decision": "approve"}, format="json")
    after = eligible(as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json())

    assert before == {
        ("ml", 1): ["max-ml"],  # not the author, not the inactive holder
        ("security", 1): ["rex-security-legal", "sam-security"],
        ("legal", 1): ["lee-legal", "rex-security-legal"],
        ("product", 1): ["pat-product"],
    }
    # A signed slot has nobody left to sign it; who signed one role of a request signs no other.
    assert after == {**before, ("security", 1): [], ("legal", 1): ["lee-legal"]}


def test_who_may_sign_is_kept_until_the_next_change_through_the_services(
    product_owner, security_reviewer, governance_admin, version, request_gate
):
    """On a large organisation that is every holder of the role, read and judged: the usernames are kept
    until the trail moves, and a role revoked through the service shows at the next read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.services.teams import role_revoke

    request = request_gate(version)
    url = f"{REQUESTS}{request.pk}/"
    api = as_user(product_owner)  # one token: making one is a change too
    assert eligible(api.get(url).json())[("security", 1)] == ["sam-security"]
    with CaptureQueriesContext(connection) as queries:
        again = eligible(api.get(url).json())
    assert again[("security", 1)] == ["sam-security"]
    assert not [query for query in queries.captured_queries if 'AS "group__name"' in query["sql"]]  # no holders read

    role_revoke(actor=governance_admin, user=security_reviewer, role="security", reason="Moved to another team.")
    assert eligible(api.get(url).json())[("security", 1)] == []


def test_a_decided_request_has_nobody_left_to_sign(product_owner, legal_reviewer, version, request_gate):
    request = request_gate(version)
    as_user(legal_reviewer).post(
        decide_url(pending_signoff(request, "legal")), {"decision": "reject", "reason": "Not yet."}, format="json"
    )

    body = as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json()

    assert body["status"] == "rejected"
    assert all(signers == [] for signers in eligible(body).values())


# --- Machine codes ---------------------------------------------------------------------------------


def code_of(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"] if status != 400 else len(body) > 1  # the fields' errors beside the code
    return body["code"]


def test_signing_for_a_role_one_does_not_hold_is_not_eligible(support_agent, version, request_gate):
    response = as_user(support_agent).post(
        decide_url(pending_signoff(request_gate(version), "security")), {"decision": "approve"}, format="json"
    )

    assert code_of(response, 403) == "not_eligible"


def test_signing_ones_own_request_is_separation_of_duties(ml_engineer, product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)

    response = as_user(product_owner).post(
        decide_url(pending_signoff(request, "product")), {"decision": "approve"}, format="json"
    )

    assert code_of(response, 403) == "separation_of_duties"
    assert (
        response.json()["detail"] == "You requested this gate, so someone else must review it (separation of duties)."
    )


def test_signing_twice_is_already_decided(security_reviewer, second_security_reviewer, version, request_gate):
    signoff = pending_signoff(request_gate(version), "security")
    as_user(security_reviewer).post(decide_url(signoff), {"decision": "approve"}, format="json")

    response = as_user(second_security_reviewer).post(decide_url(signoff), {"decision": "approve"}, format="json")

    assert code_of(response, 409) == "already_decided"


def test_requesting_twice_is_already_requested(ml_engineer, version, request_gate):
    request_gate(version)

    response = as_user(ml_engineer).post(
        REQUESTS, {"version_id": version.pk, "environment": "production", "regions": ["eu"]}, format="json"
    )

    assert code_of(response, 409) == "already_requested"


def test_requesting_a_region_the_feature_does_not_serve_is_region_not_allowed(ml_engineer, version):
    RegionFactory(code="ca", name="Canada")

    response = as_user(ml_engineer).post(
        REQUESTS, {"version_id": version.pk, "environment": "production", "regions": ["eu", "ca"]}, format="json"
    )

    assert code_of(response, 400) == "region_not_allowed"
    assert response.json()["regions"] == ["Claims Triage does not serve ca."]


def test_promoting_after_the_evidence_stopped_holding_is_evidence_stale(
    product_owner, ml_engineer, version, approved_request
):
    request = approved_request(version)
    evaluation_record(
        actor=ml_engineer,
        version=version,
        kind="safety",
        suite="safety-suite",
        metric="score",
        score=0.5,
        threshold=0.8,
        run_at=days_ago(0, hours=1),
    )

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert code_of(response, 409) == "evidence_stale"
    assert "no longer holds" in response.json()["detail"]
    assert not Deployment.objects.exists()


def test_promoting_during_a_sev1_is_promotion_frozen(product_owner, version, approved_request, feature, eu):
    request = approved_request(version)
    incident_open(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev1",
        impact_start=timezone.now() - timedelta(minutes=5),
        title="Wrong claims routed",
        description="Misrouting.",
    )

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert code_of(response, 409) == "promotion_frozen"
    assert response.json()["detail"].startswith("Promotions of this feature are frozen: ")
    assert not Deployment.objects.exists()


def test_a_freeze_by_stale_evidence_alone_is_evidence_stale(product_owner, version, approved_request, monkeypatch):
    request = approved_request(version)
    monkeypatch.setattr(
        extensions,
        "promotion_guards",
        [
            lambda feature, **promotion: Reason("Production safety evidence of v1 is stale.", EVIDENCE_STALE),
        ],
    )

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert code_of(response, 409) == "evidence_stale"


def test_a_promotion_used_once_is_approval_used(product_owner, version, approved_request):
    request = approved_request(version)
    assert as_user(product_owner).post(promote_url(request), {}, format="json").status_code == 201
    Deployment.objects.all().delete()

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert code_of(response, 409) == "approval_used"


def test_generic_refusals_carry_their_generic_code(outsider, product_owner, version, approved_request):
    request = approved_request(version)

    assert code_of(as_user(outsider).get(f"{REQUESTS}{request.pk + 1000}/"), 404) == "not_found"
    assert code_of(as_user(product_owner).get("/api/v1/no-such-endpoint/"), 404) == "not_found"
    assert code_of(as_user(product_owner).post(REQUESTS, {"environment": "nowhere"}, format="json"), 400) == "invalid"
    assert (
        code_of(as_user(product_owner).post(REQUESTS, "{broken", content_type="application/json"), 400) == "parse_error"
    )
    assert code_of(as_user(product_owner).delete(f"{REQUESTS}{request.pk}/"), 405) == "method_not_allowed"
    assert code_of(APIClient().get(REQUESTS), 401) == "not_authenticated"
    bad_token = APIClient()
    bad_token.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert code_of(bad_token.get(REQUESTS), 401) == "authentication_failed"


def test_a_permission_refusal_without_a_specific_rule_is_permission_denied(version, approved_request):
    request = approved_request(version)
    reviewer = UserFactory(username="rita-reader", roles=["security"])  # sees the request, not its team

    response = as_user(reviewer).post(promote_url(request), {}, format="json")

    assert code_of(response, 403) == "permission_denied"


# --- One meaning of "version" ----------------------------------------------------------------------


def test_version_is_the_number_and_version_id_the_id_in_a_request(product_owner, version, request_gate):
    request = request_gate(version)

    body = as_user(product_owner).get(f"{REQUESTS}{request.pk}/").json()

    assert (body["version"], body["version_id"], body["feature"]) == (version.number, version.pk, "claims-triage")
    assert body["version"] != body["version_id"]  # the test would not tell them apart otherwise


def test_a_gate_is_requested_by_feature_and_version_number(ml_engineer, version):
    response = as_user(ml_engineer).post(
        REQUESTS,
        {"feature": "claims-triage", "version": version.number, "environment": "production", "regions": ["eu"]},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert ApprovalRequest.objects.get().version == version


def test_a_bare_version_number_without_its_feature_is_refused_not_guessed(ml_engineer, version):
    response = as_user(ml_engineer).post(
        REQUESTS, {"version": version.pk, "environment": "production", "regions": ["eu"]}, format="json"
    )

    assert code_of(response, 400) == "invalid"
    assert "feature" in response.json()
    assert not ApprovalRequest.objects.exists()


def test_version_id_and_number_that_disagree_are_refused(ml_engineer, version):
    response = as_user(ml_engineer).post(
        REQUESTS,
        {
            "version_id": version.pk,
            "feature": "claims-triage",
            "version": version.number + 1,
            "environment": "production",
            "regions": ["eu"],
        },
        format="json",
    )

    assert code_of(response, 400) == "invalid"
    assert not ApprovalRequest.objects.exists()


def test_a_hidden_features_version_number_answers_as_a_missing_feature(outsider, team, eu, new_version):
    new_version(target=FeatureFactory(slug="fraud-signals", team=team, restricted=True, regions=[eu]))
    hidden = as_user(outsider).post(
        REQUESTS,
        {"feature": "fraud-signals", "version": 1, "environment": "production", "regions": ["eu"]},
        format="json",
    )
    missing = as_user(outsider).post(
        REQUESTS, {"feature": "no-such", "version": 1, "environment": "production", "regions": ["eu"]}, format="json"
    )

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == {
        "feature": [message.replace("no-such", "fraud-signals") for message in missing.json()["feature"]],
        "code": "invalid",
    }


def test_evidence_is_recorded_by_feature_and_version_number(ml_engineer, version):
    response = as_user(ml_engineer).post(
        EVALUATIONS,
        {
            "feature": "claims-triage",
            "version": version.number,
            "kind": "safety",
            "suite": "s",
            "metric": "m",
            "score": 0.9,
            "threshold": 0.8,
            "run_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["version"], body["version_id"], body["version_number"]) == (version.number, version.pk, version.number)
    assert Evaluation.objects.get().version == version


def test_the_queue_names_the_version_the_same_way(security_reviewer, version, request_gate):
    request_gate(version)

    [item] = as_user(security_reviewer).get("/api/v1/queue/").json()["results"][:1]

    assert (item["version"], item["version_id"]) == (version.number, version.pk)
