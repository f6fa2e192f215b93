"""The gates through the API: the same separation-of-duties rules as the pages (403 with the refusal in
``detail``), requests, the caller's queue, promotion by a person or the team's CI token, rollback, and
the same visibility rules (a restricted feature's requests and deployments do not exist for outsiders)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest
from approvals.services import approvals_expire
from core.audit_context import AuditSource
from registry.choices import VersionStatus
from registry.models import AuditEvent, Deployment, DeploymentEvent
from registry.services import api_token_create, version_create, version_submit
from tests.approvals.conftest import fresh, pending_signoff
from tests.factories import FeatureFactory, PromptVersionFactory, UserFactory, VersionFactory

REQUESTS = "/api/v1/approval-requests/"
QUEUE = "/api/v1/queue/"
DEPLOYMENTS = "/api/v1/deployments/"
DEPLOYMENT_EVENTS = "/api/v1/deployment-events/"
GATE_POLICIES = "/api/v1/gate-policies/"


def as_user(user, name="tests"):
    """An API client authenticated the way machines are: a bearer token."""
    _, raw = api_token_create(actor=user, user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def decide_url(signoff):
    return f"/api/v1/signoffs/{signoff.pk}/decide/"


def promote_url(request):
    return f"{REQUESTS}{request.pk}/promote/"


@pytest.fixture
def version(new_version, record_evidence):
    version = new_version()
    record_evidence(version)
    return version


def assert_still_pending(signoff):
    stored = fresh(signoff)
    assert (stored.status, stored.signer_id) == (SignOffStatus.PENDING, None)


# --- Separation of duties --------------------------------------------------------------------


def test_the_author_cannot_sign_through_the_api(ml_engineer, product_owner, version, request_gate):
    ml = pending_signoff(request_gate(version, actor=product_owner), "ml")

    response = as_user(ml_engineer).post(decide_url(ml), {"decision": "approve"}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You wrote this version, so someone else must review it (separation of duties).",
        "code": "separation_of_duties",
    }
    assert_still_pending(ml)


def test_the_requester_cannot_sign_through_the_api(product_owner, version, request_gate):
    product = pending_signoff(request_gate(version, actor=product_owner), "product")

    response = as_user(product_owner).post(decide_url(product), {"decision": "approve"}, format="json")

    assert response.status_code == 403
    assert (
        response.json()["detail"] == "You requested this gate, so someone else must review it (separation of duties)."
    )
    assert_still_pending(product)


def test_a_person_signs_one_role_of_a_request_through_the_api(version, request_gate):
    dual_hat = as_user(UserFactory(username="dual-hat", roles=["security", "legal"]))
    request = request_gate(version)

    first = dual_hat.post(decide_url(pending_signoff(request, "security")), {"decision": "approve"}, format="json")
    assert first.status_code == 200
    assert (first.json()["status"], first.json()["signer"]) == ("approved", "dual-hat")

    legal = pending_signoff(request, "legal")
    second = dual_hat.post(decide_url(legal), {"decision": "approve"}, format="json")
    assert second.status_code == 403
    assert second.json()["detail"] == (
        "You already signed this request as security reviewer; a person signs at most one role of a request."
    )
    assert_still_pending(legal)


def test_only_holders_of_a_role_sign_for_it_through_the_api(support_agent, version, request_gate):
    security = pending_signoff(request_gate(version), "security")

    response = as_user(support_agent).post(decide_url(security), {"decision": "approve"}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Only holders of the security reviewer role sign for it."
    assert_still_pending(security)


def test_rejecting_without_a_reason_is_400_through_the_api(legal_reviewer, version, request_gate):
    legal = pending_signoff(request_gate(version), "legal")

    response = as_user(legal_reviewer).post(decide_url(legal), {"decision": "reject", "reason": " "}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "reason": ["Say why you reject: the requester needs to know what to fix."],
        "code": "invalid",
    }
    assert_still_pending(legal)


def test_one_rejection_rejects_the_request_and_later_decisions_are_409(
    legal_reviewer, security_reviewer, version, request_gate
):
    request = request_gate(version)

    rejected = as_user(legal_reviewer).post(
        decide_url(pending_signoff(request, "legal")),
        {"decision": "reject", "reason": "No DPIA for the US."},
        format="json",
    )
    assert rejected.status_code == 200
    assert fresh(request).status == RequestStatus.REJECTED

    security = pending_signoff(request, "security")
    late = as_user(security_reviewer).post(decide_url(security), {"decision": "approve"}, format="json")
    assert late.status_code == 409
    assert late.json() == {
        "detail": f"Request #{request.pk} is rejected; it takes no more sign-offs.",
        "code": "already_decided",
    }
    assert_still_pending(security)


def test_signing_through_the_api_is_audited_as_coming_from_the_api(security_reviewer, version, request_gate):
    security = pending_signoff(request_gate(version), "security")

    as_user(security_reviewer).post(decide_url(security), {"decision": "approve", "reason": "ok"}, format="json")

    event = AuditEvent.objects.get(action="signoff.approved")
    assert (event.actor, event.source) == (security_reviewer, AuditSource.API)


# --- Requests and the queue ------------------------------------------------------------------


def test_requesting_a_gate_through_the_api(ml_engineer, version):
    response = as_user(ml_engineer).post(
        REQUESTS,
        {"version_id": version.pk, "environment": "production", "regions": ["eu", "us"], "note": "Tuned."},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    request = ApprovalRequest.objects.get()
    assert body["id"] == request.pk
    assert {
        key: body[key]
        for key in ("feature", "version_number", "gate", "environment", "regions", "status", "requester", "note")
    } == {
        "feature": "claims-triage",
        "version_number": 1,
        "gate": "production",
        "environment": "production",
        "regions": ["eu", "us"],
        "status": "pending",
        "requester": "mel-ml",
        "note": "Tuned.",
    }
    assert sorted((item["role"], item["status"]) for item in body["signoffs"]) == [
        ("legal", "pending"),
        ("ml", "pending"),
        ("product", "pending"),
        ("security", "pending"),
    ]
    assert AuditEvent.objects.get(action="approval.requested").source == AuditSource.API


def test_a_hidden_version_and_a_missing_one_get_the_same_400(other_product_owner, team, eu):
    hidden = VersionFactory(
        feature=FeatureFactory(slug="fraud-signals", team=team, restricted=True, regions=[eu]),
        status=VersionStatus.SUBMITTED,
        config_hash="a" * 64,
        submitted_at=timezone.now(),
    )
    missing_pk = hidden.pk + 1000
    client = as_user(other_product_owner)

    def error_for(pk):
        response = client.post(
            REQUESTS, {"version_id": pk, "environment": "production", "regions": ["eu"]}, format="json"
        )
        assert response.status_code == 400
        return {
            field: messages if field == "code" else [message.replace(str(pk), "<pk>") for message in messages]
            for field, messages in response.json().items()
        }

    assert (
        error_for(hidden.pk)
        == error_for(missing_pk)
        == {
            "version_id": ['Invalid pk "<pk>" - object does not exist.'],
            "code": "invalid",
        }
    )
    assert not ApprovalRequest.objects.exists()


def test_the_queue_lists_only_the_callers_roles(security_reviewer, legal_reviewer, version, new_version, request_gate):
    first = request_gate(version)
    second = request_gate(new_version())

    security_queue = as_user(security_reviewer).get(QUEUE).json()
    legal_queue = as_user(legal_reviewer).get(QUEUE).json()

    assert [(item["request"], item["role"]) for item in security_queue["results"]] == [
        (first.pk, "security"),
        (second.pk, "security"),
    ]
    assert [(item["request"], item["role"]) for item in legal_queue["results"]] == [
        (first.pk, "legal"),
        (second.pk, "legal"),
    ]
    assert security_queue["results"][0]["feature"] == "claims-triage"


def test_the_queue_is_empty_for_someone_without_a_reviewer_role(outsider, version, request_gate):
    request_gate(version)

    assert as_user(outsider).get(QUEUE).json()["count"] == 0


# --- Promotion -------------------------------------------------------------------------------


def test_promoting_an_approved_request_answers_201_with_the_deployment_events(product_owner, version, approved_request):
    request = approved_request(version)

    response = as_user(product_owner).post(promote_url(request), {"reason": "CHG-1234"}, format="json")

    assert response.status_code == 201
    assert sorted(
        (
            event["region"],
            event["kind"],
            event["from_version"],
            event["to_version"],
            event["approval_request_id"],
            event["reason"],
            event["actor"],
        )
        for event in response.json()
    ) == [
        ("eu", "promoted", None, 1, request.pk, "CHG-1234", "pat-product"),
        ("us", "promoted", None, 1, request.pk, "CHG-1234", "pat-product"),
    ]
    assert set(Deployment.objects.values_list("region__code", "version")) == {("eu", version.pk), ("us", version.pk)}


def test_promoting_a_pending_request_is_409(product_owner, version, request_gate):
    request = request_gate(version)

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Request #{request.pk} is still pending: every sign-off and requirement must hold first.",
        "code": "approval_pending",
    }
    assert not Deployment.objects.exists()


def test_promoting_an_expired_request_is_409(product_owner, version, approved_request):
    request = approved_request(version)
    approvals_expire(now=timezone.now() + timedelta(days=30))

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Request #{request.pk} is expired; request the gate again.",
        "code": "approval_expired",
    }
    assert not Deployment.objects.exists()


def test_promoting_an_approval_past_its_expiry_is_409_before_the_sweep_runs(product_owner, version, approved_request):
    request = approved_request(version)
    ApprovalRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = as_user(product_owner).post(promote_url(request), {}, format="json")

    assert response.status_code == 409
    assert response.json()["detail"].startswith("The approval expired on ")
    assert response.json()["code"] == "approval_expired"
    assert not Deployment.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "security_reviewer", "other_product_owner"])
def test_promoting_is_403_for_people_outside_the_owning_team(request, persona, version, approved_request):
    approval = approved_request(version)

    response = as_user(request.getfixturevalue(persona)).post(promote_url(approval), {}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only the Claims team (or its CI token) and governance admins promote Claims Triage."
    )
    assert not Deployment.objects.exists()


def test_the_teams_ci_token_promotes(ml_engineer, version, approved_request):
    request = approved_request(version)
    token, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci-pipeline")
    ci = APIClient()
    ci.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = ci.post(promote_url(request), {"reason": "Pipeline run 812"}, format="json")

    assert response.status_code == 201
    assert {event["actor"] for event in response.json()} == {"mel-ml"}
    assert set(AuditEvent.objects.filter(action="deployment.promoted").values_list("source", flat=True)) == {
        AuditSource.API
    }


# --- Rollback and the deployment lists -------------------------------------------------------


@pytest.fixture
def two_releases(ml_engineer, feature, pins, version, go_live):
    go_live(version)
    prompt = PromptVersionFactory(name="triage", version=2, template="Sort this claim, briefly: {{ claim }}")
    second = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer, feature=feature, change_summary="Shorter.", **{**pins, "prompt": prompt}
        ),
    )
    go_live(second)
    return version, second


def rollback(client, **fields):
    data = {"feature": "claims-triage", "environment": "production", "region": "eu", "reason": "Complaints.", **fields}
    return client.post(f"{DEPLOYMENTS}rollback/", data, format="json")


def test_rolling_back_through_the_api(product_owner, two_releases):
    first, second = two_releases

    response = rollback(as_user(product_owner))

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("feature", "region", "kind", "from_version", "to_version", "reason")} == {
        "feature": "claims-triage",
        "region": "eu",
        "kind": "rolled_back",
        "from_version": 2,
        "to_version": 1,
        "reason": "Complaints.",
    }
    assert Deployment.objects.get(region__code="eu").version == first
    assert Deployment.objects.get(region__code="us").version == second


def test_rolling_back_without_a_reason_is_400(product_owner, two_releases):
    response = rollback(as_user(product_owner), reason="")

    assert response.status_code == 400
    assert list(response.json()) == ["reason", "code"]
    assert not DeploymentEvent.objects.filter(kind="rolled_back").exists()


def test_rolling_back_where_nothing_is_live_is_409(product_owner, version):
    response = rollback(as_user(product_owner))

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Claims Triage is not live in production in eu: there is nothing to roll back.",
        "code": "not_live",
    }


def test_deployments_and_their_events_filter_by_feature(product_owner, governance_admin, team, eu, two_releases):
    other = FeatureFactory(slug="other-feature", team=team, regions=[eu])
    other_version = VersionFactory(
        feature=other, number=1, status=VersionStatus.SUBMITTED, config_hash="a" * 64, submitted_at=timezone.now()
    )
    Deployment.objects.create(
        feature=other,
        environment="production",
        region=eu,
        version=other_version,
        updated_at=timezone.now(),
        updated_by=governance_admin,
    )
    DeploymentEvent.objects.create(
        feature=other,
        environment="production",
        region=eu,
        kind="promoted",
        to_version=other_version,
        actor=governance_admin,
        reason="x",
        at=timezone.now(),
    )
    client = as_user(product_owner)

    deployments = client.get(DEPLOYMENTS, {"feature": "claims-triage"}).json()
    events = client.get(DEPLOYMENT_EVENTS, {"feature": "claims-triage"}).json()

    assert client.get(DEPLOYMENTS).json()["count"] == 3
    assert [(item["feature"], item["region"], item["version"]["number"]) for item in deployments["results"]] == [
        ("claims-triage", "eu", 2),
        ("claims-triage", "us", 2),
    ]
    assert events["count"] == 4
    assert {item["feature"] for item in events["results"]} == {"claims-triage"}
    assert [(item["from_version"], item["to_version"]) for item in events["results"]][:2] == [(1, 2), (1, 2)]


# --- Visibility ------------------------------------------------------------------------------


@pytest.fixture
def restricted_release(ml_engineer, team, pins, eu, us, request_gate, governance_admin):
    """A restricted feature of the team with a pending request, live in production (rows made directly)."""
    restricted = FeatureFactory(
        slug="fraud-signals",
        name="Fraud signals",
        team=team,
        restricted=True,
        regions=[eu, us],
        rollback_path="Flag.",
        monitors="https://grafana.example.test/d/f",
    )
    version = version_submit(
        actor=ml_engineer,
        version=version_create(actor=ml_engineer, feature=restricted, change_summary="First.", **pins),
    )
    request = request_gate(version)
    Deployment.objects.create(
        feature=restricted,
        environment="production",
        region=eu,
        version=version,
        updated_at=timezone.now(),
        updated_by=governance_admin,
    )
    DeploymentEvent.objects.create(
        feature=restricted,
        environment="production",
        region=eu,
        kind="promoted",
        to_version=version,
        actor=governance_admin,
        reason="x",
        at=timezone.now(),
    )
    return request


def test_a_restricted_features_requests_and_deployments_do_not_exist_for_an_outsider(
    outsider, product_owner, restricted_release
):
    request = restricted_release
    signoff = pending_signoff(request, "security")
    client = as_user(outsider)

    for url in (REQUESTS, DEPLOYMENTS, DEPLOYMENT_EVENTS, QUEUE):
        assert client.get(url).json()["count"] == 0, url
    assert client.get(f"{REQUESTS}{request.pk}/").status_code == 404
    assert client.get(f"/api/v1/signoffs/{signoff.pk}/").status_code == 404
    assert client.post(decide_url(signoff), {"decision": "approve"}, format="json").status_code == 404
    assert client.post(promote_url(request), {}, format="json").status_code == 404
    assert client.post(f"{REQUESTS}{request.pk}/withdraw/", {"reason": "x"}, format="json").status_code == 404
    assert_still_pending(signoff)

    team_view = as_user(product_owner)
    assert [item["id"] for item in team_view.get(REQUESTS).json()["results"]] == [request.pk]
    assert team_view.get(DEPLOYMENTS).json()["count"] == 1
    assert team_view.get(f"{REQUESTS}{request.pk}/").status_code == 200


def test_the_gate_policies_are_listed(product_owner):
    response = as_user(product_owner).get(GATE_POLICIES)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [policy["gate"] for policy in body["results"]] == ["production", "regulated", "sandbox"]
    production = as_user(product_owner).get(f"{GATE_POLICIES}production/").json()
    assert sorted(r["role"] for r in production["requirements"] if r["kind"] == "signoff") == [
        "legal",
        "ml",
        "product",
        "security",
    ]
