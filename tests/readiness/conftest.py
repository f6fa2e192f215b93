"""A high-risk feature taken live through real gates and promotions (the approvals world), with a fallback
model, two releases (so v1 is there to roll back to) and evidence as the example sentence quotes it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.services import promotion_execute
from registry.services import evaluation_record, version_create, version_submit
from tests.approvals.conftest import (  # noqa: F401  (fixtures shared with the approvals tests)
    default_gates,
    record_evidence,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
)
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory, UserFactory


def days_ago(days):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def dana(team):
    return UserFactory(username="dana", first_name="Dana", last_name="Lee", roles=["product"], teams=[team])


@pytest.fixture
def on_call(team):
    return UserFactory(username="omar", first_name="Omar", last_name="Haddad", roles=["ml"], teams=[team])


@pytest.fixture
def catalog(eu, us):
    return {
        "sonnet": CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu, us]),
        "haiku": CatalogModelFactory(identifier="claude-haiku-4", regions=[eu, us]),
        "policy": PolicyPackFactory(name="eu-strict", version=3, allowed_regions=[eu, us]),
    }


@pytest.fixture
def claims(team, dana, on_call, eu, us):
    return FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        risk_tier="high",
        accountable_owner=dana,
        incident_owner=on_call,
        created_by=dana,
        regions=[eu, us],
        rollback_path="Point the flag back at the previous version.",
        monitors="https://grafana.example.test/d/claims-dash",
        slos="p95 latency under 2s",
    )


@pytest.fixture
def release(ml_engineer, catalog, record_evidence, request_gate, sign_all, dana):
    """Take a new version of a feature live in production (eu and us) through a gate; benchmark 0.91 ≥ 0.85
    run ``benchmark_days`` ago, the other evidence yesterday."""

    def make(feature, *, prompt_version, benchmark_days=5):
        version = version_create(
            actor=ml_engineer,
            feature=feature,
            model=catalog["sonnet"],
            fallback_models=[catalog["haiku"]],
            prompt=PromptVersionFactory(name="triage", version=prompt_version),
            policy_pack=catalog["policy"],
            change_summary=f"Triage prompt {prompt_version}.",
        )
        version = version_submit(actor=ml_engineer, version=version)
        record_evidence(version, ("safety", "privacy_review"), run_at=days_ago(6))
        evaluation_record(
            actor=ml_engineer,
            version=version,
            kind="benchmark",
            suite="triage-gold",
            metric="accuracy",
            score=0.91,
            threshold=0.85,
            run_at=days_ago(benchmark_days),
        )
        request = sign_all(request_gate(version))
        promotion_execute(actor=dana, request=request)
        return version

    return make


@pytest.fixture
def claims_live(claims, release):
    """Claims triage: v1 then v2 live in production in eu and us; v1 is there to roll back to."""
    v1 = release(claims, prompt_version=6, benchmark_days=30)
    v2 = release(claims, prompt_version=7)
    return {"feature": claims, "v1": v1, "v2": v2}
