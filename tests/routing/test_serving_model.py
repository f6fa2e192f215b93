"""``serving_model`` (which model serves, without the explanation: what a catalog change's thousands of routes
are judged with) answers as ``decide`` does, case by case."""

import itertools

from routing.engine import Facts, ModelFacts, Scenario, decide, serving_model


def model(position, *, id, vendor="anthropic", regions=("eu", "us"), status="approved", vendor_status="approved"):
    return ModelFacts(
        id=id,
        vendor=vendor,
        vendor_name=vendor.title(),
        identifier=f"model-{id}",
        display_name=f"Model {id}",
        context_window=1000,
        status=status,
        vendor_status=vendor_status,
        regions=frozenset(regions),
        position=position,
    )


def facts(*, models, feature_status="active", region="eu", policy_regions=("eu", "us"), version_id=7):
    return Facts(
        feature_id=1,
        feature_slug="claims-triage",
        feature_name="Claims triage",
        feature_status=feature_status,
        restricted=False,
        team_id=1,
        risk_tier="high",
        operational_fallback="",
        environment="production",
        region_id=1,
        region=region,
        version_id=version_id,
        version_number=1,
        policy_regions=frozenset(policy_regions),
        policy_pack={"name": "claims", "version": 1},
        models=models,
    )


def test_serving_model_agrees_with_decide_in_every_case():
    statuses = ["approved", "suspended", "deprecated"]
    cases = 0
    for feature_status, region, policy, version_id in itertools.product(
        ["active", "paused", "retired"], ["eu", "uk"], [("eu", "us"), ("eu", "us", "uk")], [7, None]
    ):
        for primary, fallback in itertools.product(statuses, repeat=2):
            for vendor_status, scenario in itertools.product(
                ["approved", "suspended"],
                [
                    None,
                    Scenario(suspended_vendors=frozenset({"anthropic"})),
                    Scenario(suspended_models=frozenset({2})),
                    Scenario(lost_regions=frozenset({"eu"})),
                ],
            ):
                models = [
                    model(0, id=1, status=primary, vendor_status=vendor_status),
                    model(1, id=2, vendor="mistral", regions=("eu", "uk"), status=fallback),
                ]
                given = facts(
                    models=models,
                    feature_status=feature_status,
                    region=region,
                    policy_regions=policy,
                    version_id=version_id,
                )
                expected = decide(given, scenario=scenario).served
                assert serving_model(given, scenario=scenario) == expected, (given, scenario)
                cases += 1
    assert cases == 3 * 2 * 2 * 2 * 9 * 2 * 4


def test_serving_model_judges_the_models_it_is_given_instead_of_the_facts_own():
    primary = model(0, id=1)
    given = facts(models=[primary, model(1, id=2, vendor="mistral")])
    suspended = [model(0, id=1, vendor_status="suspended"), given.models[1]]
    assert serving_model(given) is primary
    assert serving_model(given, models=suspended) is given.models[1]
