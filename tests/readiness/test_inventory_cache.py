"""The inventory keeps what each feature is missing in the shared cache: never stale after a change, never
past the moment its evidence goes stale, and right without a reachable cache."""

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from readiness import current
from readiness.tasks import readiness_warm
from registry.models import Evaluation
from registry.services import evaluation_record, feature_update
from routing import cache as routing_cache

DASHBOARD = reverse("readiness:dashboard")


def _missing(client, slug):
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    row = next(row for row in response.context["object_list"] if row.feature.slug == slug)
    return row.missing, response.context["gaps"]["missing"]


def _key(feature):
    return current.KEY.format(generation=current.current_generation(), pk=feature.pk)


def _entry(feature):
    return cache.get(_key(feature))


def test_an_edit_shows_on_the_next_request_not_after_the_cache_lapses(
    client, claims_live, governance_admin, product_owner, django_capture_on_commit_callbacks
):
    feature = claims_live["feature"]
    client.force_login(governance_admin)
    missing, totals = _missing(client, "claims-triage")
    assert missing == [] and not any(totals.values())
    assert _entry(feature) is not None  # the answer was kept

    with django_capture_on_commit_callbacks(execute=True):
        feature_update(actor=governance_admin, feature=feature, reason="Dashboard moved.", monitors="")

    missing, totals = _missing(client, "claims-triage")
    assert missing == ["monitor"] and totals["monitor"] == 1
    assert client.get(DASHBOARD + "?missing=monitor").context["object_list"][0].feature == feature


def test_new_evidence_renews_only_its_features_entry(
    client, claims_live, governance_admin, ml_engineer, django_capture_on_commit_callbacks
):
    v2 = claims_live["v2"]
    Evaluation.objects.filter(version=v2, kind="safety").update(run_at=timezone.now() - timedelta(days=120))
    client.force_login(governance_admin)
    assert _missing(client, "claims-triage")[0] == ["evidence"]

    with django_capture_on_commit_callbacks(execute=True):
        evaluation_record(
            actor=ml_engineer,
            version=v2,
            kind="safety",
            suite="harm-suite",
            metric="pass_rate",
            score=0.99,
            threshold=0.95,
            run_at=timezone.now(),
        )

    assert _missing(client, "claims-triage")[0] == []


def test_an_entry_lapses_when_its_evidence_would_go_stale(client, claims_live, governance_admin, settings):
    """v2's evidence is judged under the high tier's production rules (benchmark and safety 90 days, privacy
    review a year): however long entries may otherwise live, this one ends when the first of it goes stale."""
    settings.READINESS_CACHE_SECONDS = 10 * 365 * 24 * 3600
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    stamp, missing, expires_at, _owners = _entry(claims_live["feature"])

    newest = {
        evaluation.kind: evaluation
        for evaluation in Evaluation.objects.filter(version=claims_live["v2"]).order_by("run_at")
    }
    first_stale = min(
        evaluation.run_at + timedelta(days={"benchmark": 90, "safety": 90}.get(kind, 365) + 1)
        for kind, evaluation in newest.items()
        if kind in ("benchmark", "safety", "privacy_review")
    )
    assert missing == ()
    assert first_stale.timestamp() - 60 <= expires_at <= first_stale.timestamp() + 1


def test_an_entry_past_its_time_is_computed_again(client, claims_live, governance_admin):
    feature = claims_live["feature"]
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    stamp, _missing_items, _expires, owners = _entry(feature)
    Evaluation.objects.filter(version=claims_live["v2"], kind="safety").update(
        run_at=timezone.now() - timedelta(days=120)
    )
    # What the clock would have done: the entry's time has come (its evidence went stale behind it).
    cache.set(_key(feature), (stamp, (), time.time() - 1, owners))

    assert _missing(client, "claims-triage")[0] == ["evidence"]


def test_without_a_reachable_shared_cache_every_feature_is_computed(client, claims_live, governance_admin, monkeypatch):
    feature = claims_live["feature"]
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    feature.monitors = ""
    feature.save()  # behind the services' back: no invalidation
    monkeypatch.setattr(current, "current_generation", lambda: None)

    assert _missing(client, "claims-triage")[0] == ["monitor"]


def test_the_warm_task_fills_every_feature_so_the_page_computes_none(claims_live, django_assert_num_queries):
    feature = claims_live["feature"]

    outcome = readiness_warm.delay().get()

    assert outcome["features"] == 1 and outcome["ready"] == 1
    owners = (feature.accountable_owner.is_active, feature.incident_owner.is_active)  # the page reads them
    with django_assert_num_queries(0):
        assert current.missing_items([(feature.pk, feature.slug, owners)]) == {feature.pk: ()}


def test_the_history_chart_is_kept_until_snapshots_are_written(
    client, claims_live, governance_admin, django_capture_on_commit_callbacks
):
    from readiness.services import readiness_snapshot_take

    client.force_login(governance_admin)
    assert client.get(DASHBOARD).context["history_chart"]["rows"] == []
    with django_capture_on_commit_callbacks(execute=True):
        readiness_snapshot_take()

    rows = client.get(DASHBOARD).context["history_chart"]["rows"]
    assert [(row["features"], row["ready"]) for row in rows] == [(1, 1)]


@pytest.mark.parametrize("stamp_changed", [True, False])
def test_an_entry_is_served_only_under_the_stamp_it_was_computed_under(claims_live, stamp_changed):
    feature = claims_live["feature"]
    features = [(feature.pk, feature.slug)]
    assert current.missing_items(features) == {feature.pk: ()}
    stamp, _missing_items, expires, owners = _entry(feature)
    # A wrong answer planted under the entry's key: only a renewed stamp keeps it from being served.
    cache.set(_key(feature), (stamp, ("monitor",), expires, owners))
    if stamp_changed:
        routing_cache.invalidate_features([feature.slug])

    assert current.missing_items(features) == {feature.pk: () if stamp_changed else ("monitor",)}
