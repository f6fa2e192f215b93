"""Each checklist item turns missing when its fact is missing, and the sentence says what is missing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from readiness.checklist import readiness_one
from registry.choices import Environment
from registry.models import Deployment, Evaluation
from tests.factories import FeatureFactory
from tests.freshness.world import submitted_version

EXAMPLE = (
    "Claims triage runs claude-sonnet-4 (EU, US) with prompt triage@7 and policy eu-strict@3, last evaluated "
    "5 days ago (0.91 ≥ 0.85), risk tier high, owned by Dana Lee, monitored by claims-dash, rolls back to v1."
)


def test_a_complete_feature_is_ready_and_its_sentence_states_the_facts(claims_live):
    readiness = readiness_one(claims_live["feature"])

    assert readiness.ready, [(item.key, item.detail) for item in readiness.items if not item.ok]
    assert (readiness.ok_count, readiness.total) == (8, 8)
    assert readiness.sentence == EXAMPLE


def _missing(readiness, key):
    item = readiness.item(key)
    assert not item.ok, item
    assert not readiness.ready
    return item


def test_a_deactivated_accountable_owner_is_missing(claims_live, dana):
    dana.is_active = False
    dana.save()

    readiness = readiness_one(claims_live["feature"])

    assert "deactivated" in _missing(readiness, "accountable_owner").detail
    assert readiness.sentence.endswith("; its accountable owner Dana Lee is no longer active.")


def test_a_deactivated_incident_owner_is_missing(claims_live, on_call):
    on_call.is_active = False
    on_call.save()

    readiness = readiness_one(claims_live["feature"])

    _missing(readiness, "incident_owner")
    assert readiness.sentence.endswith("; no active incident owner is named.")


def test_no_monitor_is_missing_and_said(claims_live):
    feature = claims_live["feature"]
    feature.monitors = ""
    feature.save()

    readiness = readiness_one(feature)

    _missing(readiness, "monitor")
    assert "monitored by" not in readiness.sentence
    assert readiness.sentence.endswith("rolls back to v1; no monitor is registered.")


def test_no_slos_are_missing_and_said(claims_live):
    feature = claims_live["feature"]
    feature.slos = ""
    feature.save()

    readiness = readiness_one(feature)

    _missing(readiness, "slos")
    assert readiness.sentence.endswith("; no SLOs are set.")


def test_stale_gate_evidence_is_missing_and_named(claims_live):
    Evaluation.objects.filter(version=claims_live["v2"], kind="safety").update(
        run_at=timezone.now() - timedelta(days=120)
    )

    readiness = readiness_one(claims_live["feature"])

    item = _missing(readiness, "evidence")
    assert "Safety of v2 is stale" in item.detail
    assert readiness.sentence.endswith("; safety evidence is stale.")


def test_no_eligible_fallback_in_a_region_is_missing_and_names_the_region(claims_live, catalog, eu):
    catalog["haiku"].regions.set([eu])  # the fallback is no longer hosted in the US

    readiness = readiness_one(claims_live["feature"])

    item = _missing(readiness, "fallback")
    assert "US: none eligible beyond claude-sonnet-4" in item.detail
    assert readiness.sentence.endswith("; no fallback is eligible in the US.")


def test_a_version_live_without_an_approved_request_is_missing(claims_live, us):
    feature = claims_live["feature"]
    unapproved = submitted_version(feature, 3)
    Deployment.objects.filter(feature=feature, environment=Environment.PRODUCTION, region=us).update(version=unapproved)

    readiness = readiness_one(feature)

    item = _missing(readiness, "approved_production")
    assert item.detail == "V3 went live in the US without an approved request."
    assert "v3 went live in the US without an approved request" in readiness.sentence


def test_the_rollback_path_is_a_previous_version_or_the_documented_path_and_missing_without_both(claims, release):
    release(claims, prompt_version=1)
    readiness = readiness_one(claims)
    assert readiness.item("rollback_path").ok  # documented, and nothing served before v1
    assert "rolls back by its documented path" in readiness.sentence

    claims.rollback_path = ""
    claims.save()
    readiness = readiness_one(claims)

    _missing(readiness, "rollback_path")
    assert readiness.sentence.endswith("; there is no rollback path.")

    claims.rollback_path = "Point the flag back."  # the production gate asks for one before it approves v2
    claims.save()
    release(claims, prompt_version=2)
    claims.rollback_path = ""
    claims.save()
    readiness = readiness_one(claims)
    assert readiness.item("rollback_path").ok  # v1 is there to return to, documented or not
    assert readiness.item("rollback_path").detail == "Rolls back to v1 in the EU, v1 in the US."


def test_a_feature_not_live_anywhere_says_so_once_and_lacks_the_live_items(team, eu):
    feature = FeatureFactory(
        slug="mail-sorter",
        name="Mail sorter",
        team=team,
        risk_tier="low",
        regions=[eu],
        monitors="https://grafana.example.test/d/mail",
        slos="",
        rollback_path="",
    )

    readiness = readiness_one(feature)

    assert set(readiness.missing) == {"evidence", "fallback", "approved_production", "slos", "rollback_path"}
    assert readiness.sentence.startswith("Mail sorter is not live anywhere, risk tier low, owned by ")
    assert readiness.sentence.endswith("monitored by mail; there is no rollback path and no SLOs are set.")
    assert readiness.sentence.count("not live") == 1


def test_a_feature_live_only_in_sandbox_says_where(claims, ml_engineer, eu):
    version = submitted_version(claims, 1)
    Deployment.objects.create(
        feature=claims,
        environment=Environment.SANDBOX,
        region=eu,
        version=version,
        updated_at=timezone.now(),
        updated_by=ml_engineer,
    )

    readiness = readiness_one(claims)

    assert not readiness.live
    assert readiness.sentence.startswith("Claims triage is not live in production (sandbox only: v1 in the EU), ")


@pytest.mark.parametrize("score, expected", [(0.7, "(0.7 < 0.85, failing)")])
def test_a_failing_newest_benchmark_is_quoted_as_failing(claims_live, ml_engineer, score, expected):
    from registry.services import evaluation_record

    evaluation_record(
        actor=ml_engineer,
        version=claims_live["v2"],
        kind="benchmark",
        suite="triage-gold",
        metric="accuracy",
        score=score,
        threshold=0.85,
        run_at=timezone.now() - timedelta(hours=1),
    )

    readiness = readiness_one(claims_live["feature"])

    assert f"last evaluated today {expected}" in readiness.sentence
    assert readiness.sentence.endswith("; benchmark evidence is failing.")
