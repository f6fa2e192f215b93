"""Resolve: the configuration that serves, the eligible fallbacks, each rule applied, and refusals."""

import json

import pytest

from registry.models import CatalogModel, Vendor
from routing import tokens
from tests.factories import FeatureFactory, UserFactory
from tests.freshness.world import edit_gate
from tests.routing.conftest import RESOLVE, bearer, resolve


def steps(body, rule):
    return [step for step in body["explanation"] if step["rule"] == rule]


def test_the_live_version_is_served_with_its_configuration_fallbacks_and_reasons(router, live, pins):
    response = resolve(router)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["feature"] == {"slug": "claims-triage", "name": live.feature.name, "risk_tier": "high"}
    assert (body["environment"], body["region"]) == ("production", "eu")
    assert body["version"]["number"] == live.number and body["version"]["config_hash"] == live.config_hash
    assert body["route"] == "primary"
    assert body["model"]["identifier"] == "claude-sonnet-4" and body["model"]["position"] == 0
    assert [model["identifier"] for model in body["fallbacks"]] == ["mistral-large", "claude-haiku"]
    assert body["prompt"] == {"name": "triage", "version": 1, "content_hash": pins["prompt"].content_hash}
    assert body["policy_pack"] == {"name": "claims", "version": 1}
    assert body["frozen"] is False and body["warnings"] == []
    assert {step["rule"] for step in body["explanation"]} == {
        "deployment",
        "residency",
        "hosting",
        "suspension",
        "route",
        "freeze",
        "evidence",
    }
    assert all(step["outcome"] == "pass" for step in body["explanation"])
    claim = tokens.read(body["decision"])
    assert (claim.feature_id, claim.version_id, claim.model_id, claim.environment) == (
        live.feature_id,
        live.pk,
        pins["model"].pk,
        "production",
    )


def test_a_region_the_primary_is_not_hosted_in_gets_the_first_eligible_fallback_and_says_why(
    router, live, feature, uk, ml_engineer, product_owner
):
    from registry.models import Deployment

    # The feature also serves the UK, where only the fallbacks are hosted.
    Deployment.objects.create(
        feature=feature,
        environment="production",
        region=uk,
        version=live,
        updated_at=live.submitted_at,
        updated_by=product_owner,
    )
    body = resolve(router, region="uk").json()
    assert body["route"] == "fallback 1" and body["model"]["identifier"] == "mistral-large"
    assert [model["identifier"] for model in body["fallbacks"]] == ["claude-haiku"]
    hosting = steps(body, "hosting")
    assert hosting[0]["outcome"] == "fail" and "not hosted in uk" in hosting[0]["detail"]
    assert "fallback 1" in steps(body, "route")[0]["detail"]
    assert body["warnings"] == [steps(body, "route")[0]["detail"]]


def test_a_suspended_vendor_moves_the_route_to_another_vendors_fallback(router, live, pins):
    Vendor.objects.filter(pk=pins["model"].vendor_id).update(status="suspended")
    body = resolve(router).json()
    assert body["model"]["identifier"] == "mistral-large"
    assert body["fallbacks"] == []  # claude-haiku shares the suspended vendor
    reasons = [step["detail"] for step in steps(body, "suspension") if step["outcome"] == "fail"]
    assert len(reasons) == 2 and all("is suspended" in reason for reason in reasons)


def test_nothing_eligible_is_a_409_with_every_reason_never_a_wrong_route(router, live, pins):
    CatalogModel.objects.filter(pk__in=[model.pk for model in [pins["model"], *pins["fallback_models"]]]).update(
        status="suspended"
    )
    response = resolve(router)
    assert response.status_code == 409
    body = response.json()
    assert "No eligible route for claims-triage in eu (production)" in body["detail"]
    assert "model" not in body and "fallbacks" not in body
    assert [step["outcome"] for step in steps(body, "suspension")] == ["fail", "fail", "fail"]
    assert tokens.read(body["decision"]).model_id is None  # the refusal has its receipt too


def test_a_policy_pack_that_does_not_allow_the_region_refuses_whatever_the_models(router, live, pins, us):
    pins["policy_pack"].allowed_regions.remove(us)
    response = resolve(router, region="us")
    assert response.status_code == 409
    residency = steps(response.json(), "residency")[0]
    assert residency["outcome"] == "fail" and "does not allow us" in residency["detail"]


def test_an_open_sev1_freezes_promotions_and_the_live_version_keeps_serving(router, live, feature, eu, support_agent):
    from django.utils import timezone

    from incidents.services import incident_open

    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev1",
        impact_start=timezone.now(),
        title="Wrong claims routed",
        description="Claims go to the wrong queue.",
    )
    body = resolve(router).json()
    assert body["frozen"] is True and body["model"]["identifier"] == "claude-sonnet-4"
    freeze = steps(body, "freeze")[0]
    assert freeze["outcome"] == "warn" and incident.reference in freeze["detail"]


def test_stale_evidence_warns_and_names_the_gate_but_keeps_the_route(router, live, governance_admin):
    from registry.models import Evaluation
    from tests.freshness.world import days_ago

    Evaluation.objects.filter(version=live, kind="benchmark").update(run_at=days_ago(10))
    edit_gate(governance_admin, "production", rules={"benchmark": {"max_age_days": 5}}, reason="Tighten.")
    body = resolve(router).json()
    assert body["route"] == "primary"
    benchmark = [step for step in steps(body, "evidence") if step["subject"] == "Benchmark"][0]
    assert benchmark["outcome"] == "warn" and "stale under the production gate" in benchmark["detail"]
    assert benchmark["detail"] in body["warnings"]


@pytest.mark.parametrize("status", ["paused", "retired"])
def test_a_paused_or_retired_feature_serves_nothing_and_points_at_the_operational_fallback(
    router, live, feature, status
):
    type(feature).objects.filter(pk=feature.pk).update(
        status=status, operational_fallback="Route claims to the manual queue."
    )
    response = resolve(router)
    assert response.status_code == 409
    assert response.json()["operational_fallback"] == "Route claims to the manual queue."


def test_a_region_where_nothing_is_live_is_a_409(router, live, uk):
    response = resolve(router, region="uk")
    assert response.status_code == 409
    assert "No version is live for claims-triage in uk (production)" in response.json()["explanation"][0]["detail"]


def test_sandbox_is_resolved_separately(router, live):
    response = resolve(router, environment="sandbox")
    assert response.status_code == 409  # promoted to production only
    assert response.json()["environment"] == "sandbox"


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        ({"feature": "no-such-feature", "region": "eu"}, 404, "No feature has the slug 'no-such-feature'."),
        ({"feature": "claims-triage", "region": "mars"}, 404, "No region has the code 'mars'."),
        ({"region": "eu"}, 400, "Give the feature's slug"),
        ({"feature": "claims-triage"}, 400, "Give the region's code"),
        ({"feature": "claims-triage", "region": "eu", "environment": "staging"}, 400, "Choose one of"),
    ],
)
def test_bad_questions_get_clear_answers(router, live, params, status, message):
    response = router.get(RESOLVE, params)
    assert response.status_code == status
    assert message in json.dumps(response.json())


def test_a_restricted_feature_is_unknown_to_those_who_may_not_see_it(live, feature, outsider, auditor, ml_engineer):
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    hidden = resolve(bearer(outsider))
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == "No feature has the slug 'claims-triage'."
    assert resolve(bearer(auditor)).status_code == 200
    assert resolve(bearer(ml_engineer)).status_code == 200


def test_no_credentials_no_answer(client, live):
    assert client.get(RESOLVE, {"feature": "claims-triage", "region": "eu"}).status_code in (401, 403)
    garbage = client.get(RESOLVE, {"feature": "claims-triage", "region": "eu"}, HTTP_AUTHORIZATION="Bearer nope")
    assert garbage.status_code == 401


def test_a_signed_in_browser_session_may_resolve_too(client, live, support_agent):
    client.force_login(support_agent)
    assert resolve(client).status_code == 200


def test_an_unrelated_restricted_feature_does_not_change_what_others_see(router, live):
    FeatureFactory(slug="secret-thing", restricted=True)
    assert resolve(router, feature="secret-thing").json()["detail"] == "No feature has the slug 'secret-thing'."
    assert resolve(bearer(UserFactory(username="nobody")), feature="secret-thing").status_code == 404
