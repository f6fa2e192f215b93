"""The REST API: bearer tokens, the same lists and filters as the pages, the same visibility rules
(restricted features do not exist for outsiders), and the same services behind every write, so a
change made through the API lands in the audit trail as coming from the API."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.audit_context import AuditSource
from registry.choices import DatasetUsage, FeatureStatus, RiskTier, VersionStatus
from registry.models import AIFeature, AuditEvent, Evaluation, FeatureVersion, Region
from registry.services import api_token_create, api_token_revoke, version_create, version_submit
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    VersionFactory,
)

FEATURES = "/api/v1/features/"
VERSIONS = "/api/v1/versions/"
EVALUATIONS = "/api/v1/evaluations/"
AUDIT_EVENTS = "/api/v1/audit-events/"


@pytest.fixture
def api():
    return APIClient()


def as_user(user, name="tests"):
    """An API client authenticated the way machines are: a bearer token."""
    _, raw = api_token_create(actor=user, user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def eu_region(db):
    return Region.objects.get(code="eu")


@pytest.fixture
def us_region(db):
    return Region.objects.get(code="us")


@pytest.fixture
def feature(team, eu_region):
    return FeatureFactory(
        slug="claims-triage", name="Claims triage", team=team, risk_tier=RiskTier.HIGH, regions=[eu_region]
    )


@pytest.fixture
def restricted_feature(team, eu_region):
    return FeatureFactory(slug="fraud-signals", name="Fraud signals", team=team, restricted=True, regions=[eu_region])


@pytest.fixture
def catalog(team):
    return {
        "model": CatalogModelFactory(identifier="primary-model"),
        "fallbacks": [CatalogModelFactory(identifier=name) for name in ("first-fallback", "second-fallback")],
        "prompt": PromptVersionFactory(name="triage-prompt"),
        "prompt_2": PromptVersionFactory(name="triage-prompt", version=2, template="Be brief. {{ question }}"),
        "policy": PolicyPackFactory(name="claims-policy"),
        "dataset": DatasetFactory(name="claims-golden-set", owner=team),
    }


# --- Authentication ---------------------------------------------------------------------------


def test_anonymous_requests_get_401_with_a_bearer_challenge(api, db):
    response = api.get(FEATURES)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_bearer_token_authenticates_as_its_user(feature, product_owner):
    response = as_user(product_owner).get(FEATURES)

    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == ["claims-triage"]


def test_a_revoked_token_is_refused(api, product_owner):
    token, raw = api_token_create(actor=product_owner, user=product_owner, name="ci-pipeline")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get(FEATURES).status_code == 200

    api_token_revoke(actor=product_owner, token=token)

    response = api.get(FEATURES)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("header", ["Bearer gh_not-a-real-token", "Bearer", "Bearer two parts"])
def test_an_invalid_token_is_refused(api, product_owner, header):
    api_token_create(actor=product_owner, user=product_owner, name="ci-pipeline")
    api.credentials(HTTP_AUTHORIZATION=header)

    assert api.get(FEATURES).status_code == 401


def test_a_token_of_a_deactivated_user_is_refused(product_owner):
    client = as_user(product_owner)
    product_owner.is_active = False
    product_owner.save(update_fields=["is_active"])

    assert client.get(FEATURES).status_code == 401


# --- Feature lists ----------------------------------------------------------------------------


@pytest.fixture
def catalogue(team, other_team, eu_region, us_region):
    FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        purpose="Routes claims.",
        team=team,
        risk_tier=RiskTier.HIGH,
        status=FeatureStatus.ACTIVE,
        regions=[eu_region],
    )
    FeatureFactory(
        slug="payment-fraud",
        name="Payment fraud",
        purpose="Flags card payments.",
        team=other_team,
        risk_tier=RiskTier.REGULATED,
        regions=[us_region],
    )
    FeatureFactory(
        slug="support-summaries",
        name="Support summaries",
        purpose="Summarises tickets.",
        team=team,
        risk_tier=RiskTier.LOW,
        status=FeatureStatus.ACTIVE,
        regions=[eu_region, us_region],
    )


def slugs(response):
    return {item["slug"] for item in response.json()["results"]}


def test_the_feature_list_is_paginated_with_count_and_honours_page_size(catalogue, outsider):
    response = as_user(outsider).get(FEATURES, {"page_size": 2})

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None and "page=2" in body["next"]
    assert body["previous"] is None


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"risk_tier": "regulated"}, {"payment-fraud"}),
        ({"team": "claims"}, {"claims-triage", "support-summaries"}),
        ({"region": "us"}, {"payment-fraud", "support-summaries"}),
        ({"status": "active"}, {"claims-triage", "support-summaries"}),
        ({"q": "tickets"}, {"support-summaries"}),
        ({"q": "claims", "region": "us"}, {"support-summaries"}),
    ],
)
def test_the_feature_list_takes_the_same_filters_as_the_page(client, catalogue, outsider, query, expected):
    client.force_login(outsider)

    from_api = slugs(as_user(outsider).get(FEATURES, query))
    from_page = {feature.slug for feature in client.get("/features/", query).context["page_obj"].object_list}

    assert from_api == expected
    assert from_page == expected


def test_an_unknown_filter_value_is_a_400_not_an_empty_list(catalogue, outsider):
    assert as_user(outsider).get(FEATURES, {"risk_tier": "extreme"}).status_code == 400


def test_restricted_features_do_not_exist_for_an_outsider(feature, restricted_feature, outsider):
    client = as_user(outsider)

    assert slugs(client.get(FEATURES)) == {"claims-triage"}
    assert slugs(client.get(FEATURES, {"q": "fraud"})) == set()
    assert client.get(f"{FEATURES}fraud-signals/").status_code == 404
    assert client.get(f"{FEATURES}fraud-signals/").json() == client.get(f"{FEATURES}no-such-feature/").json()


def test_restricted_features_are_listed_for_their_team_and_auditors(feature, restricted_feature, ml_engineer, auditor):
    assert slugs(as_user(ml_engineer).get(FEATURES)) == {"claims-triage", "fraud-signals"}
    assert as_user(auditor).get(f"{FEATURES}fraud-signals/").status_code == 200


# --- Feature writes ---------------------------------------------------------------------------


def registration(team, owner, **overrides):
    data = {
        "slug": "claims-triage",
        "name": "Claims triage",
        "purpose": "Routes incoming claims to the right handler.",
        "team": team.slug,
        "accountable_owner": owner.username,
        "incident_owner": owner.username,
        "risk_tier": RiskTier.HIGH,
        "regions": ["eu", "us"],
        "intended_uses": "Suggesting a queue for a claim.",
        "disallowed_uses": "Rejecting claims.",
        "data_classification": "personal",
    }
    data.update(overrides)
    return data


def test_a_team_member_registers_a_feature_and_the_audit_says_it_came_from_the_api(team, product_owner):
    response = as_user(product_owner).post(
        FEATURES, registration(team, product_owner), format="json", HTTP_X_REQUEST_ID="deploy-1234"
    )

    assert response.status_code == 201
    assert response.json()["slug"] == "claims-triage"
    assert sorted(response.json()["regions"]) == ["eu", "us"]
    feature = AIFeature.objects.get(slug="claims-triage")
    event = AuditEvent.objects.get(action="feature.created")
    assert event.feature_id == feature.pk
    assert event.source == AuditSource.API
    assert event.actor == product_owner
    assert event.request_id == "deploy-1234"
    assert response["X-Request-ID"] == "deploy-1234"


def test_an_outsider_cannot_register_a_feature(team, outsider):
    response = as_user(outsider).post(FEATURES, registration(team, outsider), format="json")

    assert response.status_code == 403
    assert not AIFeature.objects.exists()


def test_changing_a_feature_needs_a_change_reason(feature, product_owner):
    client = as_user(product_owner)
    url = f"{FEATURES}{feature.slug}/"

    refused = client.patch(url, {"risk_tier": RiskTier.REGULATED}, format="json")
    feature.refresh_from_db()
    assert refused.status_code == 400
    assert "reason" in refused.json()
    assert feature.risk_tier == RiskTier.HIGH

    accepted = client.patch(
        url, {"risk_tier": RiskTier.REGULATED, "change_reason": "Now scores claimants."}, format="json"
    )
    feature.refresh_from_db()
    assert accepted.status_code == 200
    assert accepted.json()["risk_tier"] == RiskTier.REGULATED
    assert feature.risk_tier == RiskTier.REGULATED
    event = AuditEvent.objects.get(action="feature.updated")
    assert event.source == AuditSource.API
    assert event.payload == {"changes": {"risk_tier": ["high", "regulated"]}, "reason": "Now scores claimants."}


def test_another_team_cannot_change_a_feature(feature, other_product_owner):
    response = as_user(other_product_owner).patch(
        f"{FEATURES}{feature.slug}/", {"risk_tier": RiskTier.LOW, "change_reason": "Mine."}, format="json"
    )

    assert response.status_code == 403
    feature.refresh_from_db()
    assert feature.risk_tier == RiskTier.HIGH


def test_a_features_slug_cannot_change(feature, product_owner):
    response = as_user(product_owner).patch(
        f"{FEATURES}{feature.slug}/", {"slug": "renamed", "change_reason": "Tidier."}, format="json"
    )

    assert response.status_code == 400
    assert AIFeature.objects.filter(slug="claims-triage").exists()


# --- Versions ---------------------------------------------------------------------------------


def version_payload(feature, catalog, **overrides):
    data = {
        "feature": feature.slug,
        "model": catalog["model"].pk,
        "fallback_models": [model.pk for model in catalog["fallbacks"]],
        "prompt": catalog["prompt"].pk,
        "policy_pack": catalog["policy"].pk,
        "datasets": [{"dataset": catalog["dataset"].pk, "usage": DatasetUsage.EVALUATION}],
        "tools": [{"name": "crm.lookup", "scopes": ["read"]}],
        "parameters": {"temperature": 0.2},
        "change_summary": "First version.",
    }
    data.update(overrides)
    return data


def test_creating_a_version_drafts_number_one_with_its_configuration(feature, catalog, ml_engineer):
    response = as_user(ml_engineer).post(VERSIONS, version_payload(feature, catalog), format="json")

    body = response.json()
    assert response.status_code == 201
    assert body["number"] == 1
    assert body["status"] == VersionStatus.DRAFT
    assert body["feature"] == "claims-triage"
    assert body["model"]["identifier"] == "primary-model"
    assert [item["model"]["identifier"] for item in body["fallback_models"]] == ["first-fallback", "second-fallback"]
    assert body["datasets"] == [
        {"dataset": catalog["dataset"].pk, "name": "claims-golden-set", "version": "2026-01", "usage": "evaluation"}
    ]
    assert body["tools"] == [{"name": "crm.lookup", "scopes": ["read"]}]
    assert body["parameters"] == {"temperature": 0.2}
    assert body["config_hash"] == ""
    assert AuditEvent.objects.get(action="version.created").source == AuditSource.API


def test_a_version_cannot_be_created_for_a_restricted_feature_the_caller_cannot_see(
    restricted_feature, catalog, outsider
):
    response = as_user(outsider).post(VERSIONS, version_payload(restricted_feature, catalog), format="json")

    assert response.status_code == 400
    assert "does not exist" in str(response.json()["feature"])
    assert not FeatureVersion.objects.exists()


def test_creating_a_version_for_a_hidden_feature_answers_exactly_as_for_a_missing_one(
    restricted_feature, catalog, outsider
):
    client = as_user(outsider)

    hidden = client.post(VERSIONS, version_payload(restricted_feature, catalog), format="json")
    missing = client.post(
        VERSIONS, {**version_payload(restricted_feature, catalog), "feature": "no-such-feature"}, format="json"
    )

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == {
        "feature": [message.replace("no-such-feature", "fraud-signals") for message in missing.json()["feature"]],
        "code": "invalid",
    }


def test_a_draft_can_be_changed(feature, catalog, ml_engineer):
    client = as_user(ml_engineer)
    version_id = client.post(VERSIONS, version_payload(feature, catalog), format="json").json()["id"]

    response = client.patch(
        f"{VERSIONS}{version_id}/", {"prompt": catalog["prompt_2"].pk, "change_summary": "Shorter."}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["prompt"]["version"] == 2
    assert response.json()["change_summary"] == "Shorter."
    assert [item["model"]["identifier"] for item in response.json()["fallback_models"]] == [
        "first-fallback",
        "second-fallback",
    ]


def test_submitting_locks_a_version_and_later_changes_get_409(feature, catalog, ml_engineer):
    client = as_user(ml_engineer)
    version_id = client.post(VERSIONS, version_payload(feature, catalog), format="json").json()["id"]

    submitted = client.post(f"{VERSIONS}{version_id}/submit/")
    changed = client.patch(f"{VERSIONS}{version_id}/", {"change_summary": "Too late."}, format="json")
    resubmitted = client.post(f"{VERSIONS}{version_id}/submit/")

    assert submitted.status_code == 200
    assert submitted.json()["status"] == VersionStatus.SUBMITTED
    assert len(submitted.json()["config_hash"]) == 64
    assert submitted.json()["submitted_by"] == ml_engineer.username
    assert changed.status_code == 409
    assert "can no longer change" in changed.json()["detail"]
    assert resubmitted.status_code == 409
    version = FeatureVersion.objects.get(pk=version_id)
    assert version.change_summary == "First version."
    assert version.config_hash == submitted.json()["config_hash"]


def test_versions_of_restricted_features_do_not_exist_for_an_outsider(restricted_feature, outsider):
    version = VersionFactory(feature=restricted_feature, number=1)
    client = as_user(outsider)

    assert client.get(VERSIONS).json()["count"] == 0
    assert client.get(f"{VERSIONS}{version.pk}/").status_code == 404
    assert client.patch(f"{VERSIONS}{version.pk}/", {"change_summary": "x"}, format="json").status_code == 404
    assert client.post(f"{VERSIONS}{version.pk}/submit/").status_code == 404
    version.refresh_from_db()
    assert version.is_draft


# --- Evaluations ------------------------------------------------------------------------------


def evaluation_payload(version, **overrides):
    data = {
        "version_id": version.pk,
        "kind": "safety",
        "suite": "harmful-output-v1",
        "metric": "harmful_rate",
        "score": 0.02,
        "threshold": 0.05,
        "higher_is_better": False,
        "region": "eu",
        "run_at": (timezone.now() - timedelta(hours=1)).isoformat(),
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "score, threshold, higher_is_better, passed",
    [(0.02, 0.05, False, True), (0.07, 0.05, False, False), (0.9, 0.8, True, True), (0.7, 0.8, True, False)],
)
def test_recording_an_evaluation_works_out_whether_it_passed(
    feature, catalog, ml_engineer, score, threshold, higher_is_better, passed
):
    version = version_create(
        actor=ml_engineer,
        feature=feature,
        model=catalog["model"],
        prompt=catalog["prompt"],
        policy_pack=catalog["policy"],
        change_summary="First.",
    )

    response = as_user(ml_engineer).post(
        EVALUATIONS,
        # A client's own idea of "passed" is ignored: the server works it out.
        evaluation_payload(
            version, score=score, threshold=threshold, higher_is_better=higher_is_better, passed=not passed
        ),
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["passed"] is passed
    assert Evaluation.objects.get(version=version).passed is passed
    assert AuditEvent.objects.get(action="evaluation.recorded").source == AuditSource.API


def test_evidence_can_be_attached_after_submission(feature, catalog, ml_engineer):
    version = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            model=catalog["model"],
            prompt=catalog["prompt"],
            policy_pack=catalog["policy"],
            change_summary="First.",
        ),
    )

    assert as_user(ml_engineer).post(EVALUATIONS, evaluation_payload(version), format="json").status_code == 201


def test_an_evaluation_in_the_future_is_refused(feature, catalog, ml_engineer):
    version = VersionFactory(feature=feature, number=1)

    response = as_user(ml_engineer).post(
        EVALUATIONS, evaluation_payload(version, run_at=(timezone.now() + timedelta(days=1)).isoformat()), format="json"
    )

    assert response.status_code == 400
    assert "run_at" in response.json()
    assert not Evaluation.objects.exists()


def test_an_outsider_cannot_attach_evidence_to_a_restricted_version(restricted_feature, outsider):
    version = VersionFactory(feature=restricted_feature, number=1)

    response = as_user(outsider).post(EVALUATIONS, evaluation_payload(version), format="json")

    assert response.status_code in (400, 404)
    assert "does not exist" in str(response.json())
    assert not Evaluation.objects.exists()
    assert not AuditEvent.objects.filter(action="evaluation.recorded").exists()


def test_attaching_evidence_to_a_hidden_version_answers_exactly_as_for_a_missing_one(restricted_feature, outsider):
    version = VersionFactory(feature=restricted_feature, number=1)
    client = as_user(outsider)
    missing_pk = version.pk + 1000

    hidden = client.post(EVALUATIONS, evaluation_payload(version), format="json")
    missing = client.post(EVALUATIONS, {**evaluation_payload(version), "version_id": missing_pk}, format="json")

    assert hidden.status_code == missing.status_code
    assert hidden.json() == {
        key: messages if key == "code" else [message.replace(str(missing_pk), str(version.pk)) for message in messages]
        for key, messages in missing.json().items()
    }


def test_evaluations_of_restricted_features_are_not_listed_for_an_outsider(restricted_feature, feature, outsider):
    Evaluation.objects.create(
        version=VersionFactory(feature=restricted_feature, number=1),
        kind="benchmark",
        suite="s",
        metric="m",
        score=0.9,
        threshold=0.8,
        passed=True,
        run_at=timezone.now(),
        recorded_by=restricted_feature.accountable_owner,
    )

    assert as_user(outsider).get(EVALUATIONS).json()["count"] == 0


# --- Audit trail and schema -------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona, status",
    [("product_owner", 403), ("support_agent", 403), ("outsider", 403), ("auditor", 200), ("governance_admin", 200)],
)
def test_the_audit_trail_endpoint_is_for_auditors_and_governance(request, persona, status):
    response = as_user(request.getfixturevalue(persona)).get(AUDIT_EVENTS)

    assert response.status_code == status
    if status == 200:
        assert response.json()["results"][0]["action"] == "api_token.created"
        assert len(response.json()["results"][0]["hash"]) == 64


def test_the_schema_is_served_to_signed_in_users_only(api, client, outsider):
    anonymous = api.get("/api/schema/")
    client.force_login(outsider)
    signed_in = client.get("/api/schema/")

    assert anonymous.status_code in (401, 403)
    assert signed_in.status_code == 200
    assert b"/api/v1/features/" in signed_in.content


def test_the_api_docs_open_for_a_signed_in_user(client, outsider):
    client.force_login(outsider)

    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
