"""Resolve is cached per process and every change that can alter an answer invalidates it: the next
resolve after a promotion, rollback, suspension, freeze, policy change, new evidence, revoked token or
lost membership sees the change. These tests commit for real (the invalidation runs on commit)."""

from datetime import timedelta

import pytest
from django.core.cache import cache as shared_cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals.services import promotion_execute
from incidents.services import incident_open, incident_transition
from registry.models import ApiToken, Evaluation
from registry.services.deployments import deployment_rollback
from registry.services.tokens import api_token_revoke
from routing import cache
from routing.services import catalog_status_change
from tests.factories import FeatureFactory
from tests.freshness.world import days_ago, edit_gate
from tests.routing.conftest import bearer, resolve

pytestmark = pytest.mark.django_db(transaction=True)


LAST = []


def decided() -> bool:
    """Whether the last ``queries`` computed a decision (read deployments), not only who is asking."""
    return any('"registry_deployment"' in query["sql"] for query in LAST)


def queries(client, **params):
    with CaptureQueriesContext(connection) as captured:
        response = resolve(client, **params)
    LAST[:] = captured.captured_queries
    return len(captured.captured_queries), response


def test_a_cached_answer_costs_no_query_and_a_miss_a_fixed_number(router, live):
    miss, first = queries(router)
    hit, second = queries(router)
    assert first.status_code == second.status_code == 200
    assert hit == 0, "a cached resolve (token identity included) must not touch the database"
    assert 0 < miss <= 14  # the token and the caller's rights (5), the decision (9)
    us_miss, _ = queries(router, region="us")
    assert us_miss <= 9, "a decision not yet cached costs its own queries only once the caller is known"


def forget_decisions():
    """As if no process had computed any decision yet under the current epoch (callers stay known)."""
    epoch = cache.current_epoch()
    cache.decisions.clear()
    shared_cache.clear()
    shared_cache.set(cache.EPOCH_KEY, epoch)


def decision_queries(client):
    """The queries of one uncached decision, for a caller already known."""
    resolve(client, region="us")
    forget_decisions()
    return queries(client)


def test_a_miss_computes_every_route_of_the_feature_at_once(router, live, feature, eu, product_owner):
    from registry.models import Deployment

    Deployment.objects.create(
        feature=feature,
        environment="sandbox",
        region=eu,
        version=live,
        updated_at=timezone.now(),
        updated_by=product_owner,
    )
    cache.invalidate()  # created behind the services' back
    routes = set(Deployment.objects.filter(feature=feature).values_list("environment", "region__code"))
    assert {("production", "eu"), ("production", "us")} <= routes
    first, _ = queries(router)
    assert first > 0
    for environment, region in routes:
        cost, response = queries(router, region=region, environment=environment)
        assert (cost, response.status_code) == (0, 200), (environment, region)
        assert (response.json()["region"], response.json()["environment"]) == (region, environment)


def test_a_decision_computed_by_one_process_is_taken_from_the_shared_cache_by_the_others(router, live):
    first, computed = queries(router)
    cache.decisions.clear()  # another process: nothing in its memory
    cache.identities.clear()
    resolve(router, region="us")  # knows the caller now (a decision of the same feature: shared too)
    shared_hit, response = queries(router)
    assert first > 0 and shared_hit == 0
    assert {**response.json(), "decision": "", "resolved_at": ""} == {
        **computed.json(),
        "decision": "",
        "resolved_at": "",
    }


def test_the_miss_costs_the_same_whatever_the_number_of_fallbacks_and_evaluations(
    router, live, feature, new_version, go_live, pins, record_evidence
):
    from tests.factories import CatalogModelFactory

    miss_small, _ = decision_queries(router)
    many = [CatalogModelFactory(identifier=f"extra-{n}", regions=list(pins["model"].regions.all())) for n in range(6)]
    version = new_version(summary="More fallbacks.")
    version.fallbacks.all().delete()
    for position, model in enumerate([*pins["fallback_models"], *many], start=1):
        version.fallbacks.create(model=model, position=position)
    go_live(version)
    record_evidence(version)
    record_evidence(version)
    miss_large, response = decision_queries(router)
    assert len(response.json()["fallbacks"]) == 8
    assert 0 < miss_large == miss_small


def test_a_promotion_is_seen_by_the_next_resolve(router, live, new_version, go_live):
    assert resolve(router).json()["version"]["number"] == 1
    go_live(new_version(summary="Second release."))
    assert resolve(router).json()["version"]["number"] == 2


def test_a_rollback_is_seen_by_the_next_resolve(router, live, new_version, go_live, feature, eu, product_owner):
    go_live(new_version(summary="Second release."))
    assert resolve(router).json()["version"]["number"] == 2
    deployment_rollback(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        to_version=live,
        reason="v2 misroutes claims.",
    )
    assert resolve(router).json()["version"]["number"] == 1


def test_suspending_and_reinstating_a_vendor_or_a_model_is_seen_by_the_next_resolve(
    router, live, pins, governance_admin
):
    assert resolve(router).json()["model"]["identifier"] == "claude-sonnet-4"
    catalog_status_change(actor=governance_admin, vendor=pins["model"].vendor, suspend=True, reason="Data breach.")
    assert resolve(router).json()["model"]["identifier"] == "mistral-large"
    catalog_status_change(actor=governance_admin, model=pins["fallback_models"][0], suspend=True, reason="Outage.")
    assert resolve(router).status_code == 409
    catalog_status_change(actor=governance_admin, vendor=pins["model"].vendor, suspend=False, reason="Cleared.")
    assert resolve(router).json()["model"]["identifier"] == "claude-sonnet-4"


def test_a_freeze_and_its_end_are_seen_by_the_next_resolve(router, live, feature, eu, support_agent, product_owner):
    assert resolve(router).json()["frozen"] is False
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev2",
        impact_start=timezone.now(),
        title="Slow answers",
        description="Timeouts.",
    )
    assert resolve(router).json()["frozen"] is True
    incident_transition(actor=product_owner, incident=incident, status="mitigated", note="Rolled the flag back.")
    assert resolve(router).json()["frozen"] is False


def test_a_gate_policy_change_and_new_evidence_are_seen_by_the_next_resolve(
    router, live, governance_admin, record_evidence
):
    Evaluation.objects.filter(version=live, kind="benchmark").update(run_at=days_ago(20))
    cache.invalidate()  # the update above went behind the services' back
    assert resolve(router).json()["warnings"] == []
    edit_gate(governance_admin, "production", rules={"benchmark": {"max_age_days": 10}}, reason="Tighten benchmarks.")
    assert any("Benchmark evidence is stale" in warning for warning in resolve(router).json()["warnings"])
    record_evidence(live, kinds=("benchmark",))
    assert resolve(router).json()["warnings"] == []


def test_a_revoked_token_is_refused_on_its_next_request(live, ml_engineer):
    client = bearer(ml_engineer, name="to-revoke")
    assert resolve(client).status_code == 200
    api_token_revoke(actor=ml_engineer, token=ApiToken.objects.get(name="to-revoke"))
    assert resolve(client).status_code == 401


def test_a_deactivated_user_or_lost_membership_is_seen_on_the_next_request(live, feature, ml_engineer, team):
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    cache.invalidate()
    client = bearer(ml_engineer)
    assert resolve(client).status_code == 200
    ml_engineer.groups.remove(team.group)  # as the admin would: no service, a model signal
    assert resolve(client).status_code == 404
    ml_engineer.is_active = False
    ml_engineer.save()
    assert resolve(client).status_code == 401


def test_an_epoch_changed_by_another_process_is_honoured(router, live):
    resolve(router)
    shared_cache.set(cache.EPOCH_KEY, "set-by-another-process")
    recomputed, _ = queries(router)
    assert recomputed > 0


def test_a_feature_stamp_changed_or_lost_is_honoured(router, live):
    resolve(router)
    shared_cache.set(cache.FEATURE_KEY + "claims-triage", "set-by-another-process")
    recomputed, _ = queries(router)
    assert recomputed > 0
    shared_cache.delete(cache.FEATURE_KEY + "claims-triage")  # evicted: never taken for the old value
    recomputed, _ = queries(router)
    assert recomputed > 0
    kept, _ = queries(router)
    assert kept == 0


def both_cached(router, feature, live, by):
    """A second feature, fraud-check, live on the same version; both features' answers in the shared cache
    and none in this process's memory: the fleet's view, in which a change's reach shows."""
    from registry.models import Deployment

    other = FeatureFactory(slug="fraud-check", name="Fraud check", team=feature.team, risk_tier=feature.risk_tier)
    Deployment.objects.create(
        feature=other,
        environment="production",
        region=Deployment.objects.filter(feature=feature).first().region,
        version=live,
        updated_at=timezone.now(),
        updated_by=by,
    )
    cache.invalidate()  # created behind the services' back
    resolve(router)
    resolve(router, feature="fraud-check")
    cache.decisions.clear()


def test_a_promotion_renews_its_feature_only_and_a_worker_warms_it_ahead_of_traffic(
    router, live, feature, new_version, go_live, governance_admin
):
    both_cached(router, feature, live, governance_admin)

    go_live(new_version(summary="Second release."))

    untouched, answer = queries(router, feature="fraud-check")
    assert untouched == 0, "another feature's promotion leaves this feature's decisions in place"
    assert answer.json()["version"]["number"] == live.number
    _, answer = queries(router)
    assert not decided(), "the worker computed the promoted feature's decisions at the commit"
    assert answer.json()["version"]["number"] == 2


def test_a_catalog_change_renews_the_features_it_governs_only_and_a_worker_warms_them(
    router, live, feature, pins, governance_admin
):
    both_cached(router, feature, live, governance_admin)
    FeatureFactory(slug="unpinned", team=feature.team)  # no version of it pins the suspended model
    slugs = ["claims-triage", "fraud-check", "unpinned"]
    epoch, before = cache.current_epoch(), cache.feature_stamps(slugs)

    catalog_status_change(actor=governance_admin, vendor=pins["model"].vendor, suspend=True, reason="Breach.")

    after = cache.feature_stamps(slugs)
    assert cache.current_epoch() == epoch, "a suspension no longer sends the whole fleet down the cold path"
    assert after["claims-triage"] != before["claims-triage"] and after["fraud-check"] != before["fraud-check"]
    assert after["unpinned"] == before["unpinned"]
    _, answer = queries(router)
    assert not decided(), "the worker computed the affected features' decisions at the commit"
    assert answer.json()["model"]["identifier"] == "mistral-large"


@pytest.mark.parametrize(
    "edit, visibility",
    [
        ({"operational_fallback": "Route to the human queue."}, False),
        ({"status": "retired"}, False),
        ({"restricted": True}, True),
    ],
)
def test_a_feature_edit_renews_that_feature_and_who_may_ask_only_when_it_changes_who_may_see_it(
    router, live, feature, governance_admin, edit, visibility
):
    from registry.services import feature_update

    both_cached(router, feature, live, governance_admin)
    before, epoch = cache.feature_stamps(["claims-triage"]), cache.current_epoch()

    feature_update(actor=governance_admin, feature=feature, reason="Edited for the test.", **edit)

    other_queries, _ = queries(router, feature="fraud-check")
    assert (other_queries > 0) is visibility, "who may see what is checked again after a visibility change"
    assert not decided(), "another feature's decisions stay whatever the edit"
    assert cache.current_epoch() == epoch
    assert cache.feature_stamps(["claims-triage"]) != before  # its decisions computed again (by the worker)
    _, answer = queries(router)
    if "status" in edit:
        assert answer.status_code == 409, "a retired feature is refused on the next resolve"


def test_a_change_to_who_may_ask_keeps_every_decision(router, live, feature, governance_admin, ml_engineer, team):
    """A role granted, a member added or removed, a token revoked: identities are checked again, no decision is
    computed again (a provisioning run must not send the fleet down the cold path)."""
    from django.contrib.auth import get_user_model

    from registry.services.teams import role_grant, team_member_add, team_member_remove
    from registry.services.tokens import api_token_create

    resolve(router)
    epoch, stamps = cache.current_epoch(), cache.feature_stamps(["claims-triage"])
    newcomer = get_user_model().objects.create_user("newcomer", "newcomer@example.com", "x")
    for change in (
        lambda: role_grant(actor=governance_admin, user=newcomer, role="auditor", reason="Audit season."),
        lambda: team_member_add(actor=governance_admin, team=team, user=newcomer, reason="Joined."),
        lambda: team_member_remove(actor=governance_admin, team=team, user=newcomer, reason="Left."),
        lambda: api_token_create(actor=ml_engineer, user=ml_engineer, name="another") and None,
    ):
        change()
        count, answer = queries(router)
        assert answer.status_code == 200 and not decided(), "the decision stays in memory"
        assert count <= 5, "only the token and the caller's rights are read again"
    assert cache.current_epoch() == epoch and cache.feature_stamps(["claims-triage"]) == stamps


def test_every_audited_action_is_classified_for_the_routing_cache():
    """An audited action routing.cache does not know renews the epoch (every decision of the fleet): each
    action the code records must be listed as irrelevant, the feature's own, who may ask, or a catalog or gate
    change, or be a feature's creation or edit (classified by what changed)."""
    import re
    from pathlib import Path

    from routing.impact import CATALOG_ACTIONS, GATE_ACTIONS

    root = Path(__file__).resolve().parents[2]
    known = (
        cache.IRRELEVANT_ACTIONS
        | cache.FEATURE_ACTIONS
        | cache.ACCESS_ACTIONS
        | CATALOG_ACTIONS
        | GATE_ACTIONS
        | {"feature.created", "feature.updated"}
    )
    recorded = set()
    pattern = re.compile(r'(?:action=f?|"action": |_ACTION = )"([a-z_]+\.[a-z_{}]+)"')
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in {"tests", "bench", ".venv", "var", "node_modules", "docs"}:
            continue
        recorded |= set(pattern.findall(path.read_text()))
    recorded = {
        expanded
        for action in recorded
        for expanded in (
            [action.replace("{status}", status) for status in ("firing", "resolved")] if "{" in action else [action]
        )
    }
    assert len(recorded) > 80
    assert sorted(recorded - known) == []


def test_an_answer_is_kept_no_longer_than_its_evidence_stays_fresh(router, live):
    # Benchmark evidence 90 days old under a 90-day rule goes stale within the minute.
    Evaluation.objects.filter(version=live, kind="benchmark").update(
        run_at=timezone.now() - timedelta(days=91) + timedelta(seconds=30)
    )
    cache.invalidate()
    resolve(router)
    expires, *_ = cache.decisions._entries[("production", "claims-triage", "eu")]
    import time

    assert expires - time.monotonic() <= 30


def test_with_the_shared_cache_down_resolve_keeps_serving_from_the_database(router, live, monkeypatch):
    resolve(router)

    def down(*args, **kwargs):
        raise ConnectionError("cache server unreachable")

    monkeypatch.setattr(shared_cache, "get", down)
    first, response = queries(router)
    second, again = queries(router)
    assert response.status_code == again.status_code == 200
    assert first > 0 and second > 0, "nothing is served from memory while invalidations cannot be seen"


def test_writes_that_cannot_change_an_answer_keep_the_cache(router, live, feature, eu, ml_engineer, support_agent):
    from incidents.services import (
        incident_comment,
        incident_mark_serious,
        incident_record_submission,
        incident_snapshot_evidence,
        report_notes_save,
    )
    from registry.services.tokens import api_token_create

    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev4",
        impact_start=timezone.now(),
        title="Odd wording",
        description="One answer was terse.",
    )
    resolve(router)
    api_token_create(actor=ml_engineer, user=ml_engineer, name="another")
    incident_comment(actor=support_agent, incident=incident, body="Customer satisfied.")
    # A serious incident's report and evidence change nothing resolve reads either.
    incident = incident_mark_serious(
        actor=support_agent, incident=incident, criteria=["rights"], aware_at=timezone.now()
    )
    report_notes_save(actor=support_agent, incident=incident, affected_persons="One customer.")
    incident_snapshot_evidence(actor=support_agent, incident=incident)
    incident_record_submission(
        actor=support_agent, incident=incident, kind="complete", authority="Authority", submitted_at=timezone.now()
    )
    hit, _ = queries(router)
    assert hit == 0
