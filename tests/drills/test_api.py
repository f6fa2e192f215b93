"""Drills over the API: list, run and save, retrieve; the same permissions and restrictions as the pages."""

import pytest
from rest_framework.test import APIClient

from drills.models import DrillRun
from drills.services import drill_run

pytestmark = pytest.mark.django_db

DRILLS = "/api/v1/drills/"


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_governance_runs_a_drill_and_gets_its_report(world, governance_admin):
    response = api(governance_admin).post(DRILLS, {"kind": "vendor_unavailable", "vendor": "acme"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["figures"] == {"total": 4, "lost": 2, "moved": 1, "warned": 0, "features": 2}
    routes = {(route["feature"], route["region"]): route for route in body["report"]["routes"]}
    assert routes[("claims-triage", "eu")]["serves_after"] == {"route": "fallback 1", "model": "bolt/breeze"}
    assert routes[("claims-triage", "us")]["serves_after"] is None
    assert routes[("claims-triage", "us")]["still_served_in"] == ["eu"]
    assert DrillRun.objects.get().author == governance_admin
    listed = api(governance_admin).get(DRILLS).json()
    assert listed["count"] == 1 and "report" not in listed["results"][0]
    assert api(governance_admin).get(f"{DRILLS}{body['id']}/").json()["report"] == body["report"]


def test_each_kind_takes_its_subject(world, governance_admin):
    client = api(governance_admin)
    assert (
        client.post(DRILLS, {"kind": "model_suspended", "model": world["breeze"].pk}, format="json").status_code == 201
    )
    assert client.post(DRILLS, {"kind": "region_lost", "region": "eu"}, format="json").status_code == 201
    aged = client.post(DRILLS, {"kind": "evidence_aged", "days": 100}, format="json").json()
    assert aged["report"]["note"].startswith("Stale evidence does not take a route away")
    missing = client.post(DRILLS, {"kind": "region_lost"}, format="json")
    assert missing.status_code == 400 and "region" in missing.json()
    assert client.post(DRILLS, {"kind": "vendor_unavailable", "vendor": "nope"}, format="json").status_code == 400


def test_readers_read_restricted_free_reports_and_may_not_run(world, governance_admin, security_reviewer, ml_engineer):
    run = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    body = api(security_reviewer).get(f"{DRILLS}{run.pk}/").json()
    assert {route["feature"] for route in body["report"]["routes"]} == {"claims-triage"}
    assert body["report"]["hidden"] is True and body["figures"]["lost"] == 1
    assert (
        api(security_reviewer).post(DRILLS, {"kind": "region_lost", "region": "eu"}, format="json").status_code == 403
    )
    assert api(ml_engineer).get(DRILLS).status_code == 403
    assert api(ml_engineer).get(f"{DRILLS}{run.pk}/").status_code == 403


def test_the_list_filters_like_the_page(world, governance_admin):
    drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    drill_run(actor=governance_admin, kind="evidence_aged", days=30)
    titles = [run["title"] for run in api(governance_admin).get(DRILLS, {"result": "clean"}).json()["results"]]
    assert titles == ["Evidence 30 days older"]


def test_the_schema_documents_drills_and_impact(client, governance_admin):
    client.force_login(governance_admin)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/drills/" in schema["paths"] and "/api/v1/drills/{id}/" in schema["paths"]
    assert "/api/v1/impact/{kind}/{key}/" in schema["paths"]


def test_the_list_costs_the_same_queries_for_2_as_for_8_runs(world, governance_admin, django_assert_max_num_queries):
    from tests.query_counts import assert_constant

    def grow(count):
        for _ in range(count):
            drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])

    client = APIClient()
    client.force_login(governance_admin)
    assert_constant(client, DRILLS, grow, django_assert_max_num_queries, 6)
