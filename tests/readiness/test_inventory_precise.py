"""After a change, the inventory computes again only the features the change can affect: an account change
(which renews the routing epoch many times a day) keeps every entry, so the first visit after it costs
the same queries however many features there are; a deactivated owner still shows at once."""

import pytest
from django.urls import reverse

from readiness import current
from readiness.tasks import readiness_warm
from registry.services import audit_record, feature_update, role_grant
from routing import cache as routing_cache
from tests.factories import FeatureFactory, UserFactory

DASHBOARD = reverse("readiness:dashboard")


@pytest.fixture
def computed(monkeypatch):
    """The features whose checklist ``missing_items`` had to compute, per call."""
    seen = []
    compute = current._compute

    def counting(ids, now):
        seen.append(sorted(ids))
        return compute(ids, now)

    monkeypatch.setattr(current, "_compute", counting)
    return seen


def _many(team, n):
    owner = UserFactory(roles=["product"], teams=[team])
    return [FeatureFactory(team=team, accountable_owner=owner, incident_owner=owner) for _ in range(n)]


def test_an_account_change_keeps_every_entry(
    client, claims_live, governance_admin, ml_engineer, computed, django_capture_on_commit_callbacks
):
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    access = routing_cache.current_access()
    computed.clear()

    with django_capture_on_commit_callbacks(execute=True):
        role_grant(actor=governance_admin, user=ml_engineer, role="security", reason="On call for audits.")

    assert routing_cache.current_access() != access  # who may ask changed (it used to renew the whole epoch)
    assert client.get(DASHBOARD).status_code == 200
    assert computed == []


def test_the_first_visit_after_an_account_change_costs_the_same_queries_however_many_features(
    client, team, governance_admin, ml_engineer, django_capture_on_commit_callbacks, computed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(governance_admin)

    def first_visit_after_an_account_change(role):
        readiness_warm.delay().get()
        client.get(DASHBOARD)
        with django_capture_on_commit_callbacks(execute=True):
            role_grant(actor=governance_admin, user=ml_engineer, role=role, reason="On call.")
        computed.clear()
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DASHBOARD).status_code == 200
        assert computed == []  # no feature's entry was stale: only the page's rows are computed
        return len(queries.captured_queries)

    _many(team, 2)
    few = first_visit_after_an_account_change("security")
    _many(team, 30)
    assert first_visit_after_an_account_change("legal") == few


def test_a_deactivated_owner_shows_on_the_next_visit_whatever_path_deactivated_them(
    client, claims_live, governance_admin, dana
):
    client.force_login(governance_admin)
    row = next(row for row in client.get(DASHBOARD).context["object_list"] if row.feature.slug == "claims-triage")
    assert row.missing == []

    dana.is_active = False
    dana.save()  # as the admin would: no audited service, no stamp renewed

    response = client.get(DASHBOARD + "?missing=accountable_owner")
    assert [row.feature.slug for row in response.context["object_list"]] == ["claims-triage"]
    assert response.context["gaps"]["missing"]["accountable_owner"] == 1


def test_a_change_readiness_cannot_place_renews_everything_and_queues_a_warm_up(
    client, claims_live, governance_admin, computed, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("core.queueing.enqueue", lambda task, *args, **kwargs: queued.append(task.name) or True)
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    generation = current.current_generation()
    computed.clear()

    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        audit_record(actor=governance_admin, action="something.new", object_type="thing", object_id=1)

    assert current.current_generation() != generation
    assert queued == ["readiness.tasks.readiness_warm"]
    client.get(DASHBOARD)
    assert computed == [[claims_live["feature"].pk]]


def test_a_visibility_edit_renews_only_that_features_entry(
    client, claims_live, team, governance_admin, computed, django_capture_on_commit_callbacks
):
    others = _many(team, 3)
    client.force_login(governance_admin)
    client.get(DASHBOARD)
    computed.clear()
    feature = claims_live["feature"]

    with django_capture_on_commit_callbacks(execute=True):
        feature_update(actor=governance_admin, feature=feature, reason="Under legal review.", restricted=True)

    client.get(DASHBOARD)
    assert computed == [[feature.pk]]
    assert all(other.pk not in computed[0] for other in others)
