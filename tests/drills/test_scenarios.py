"""Each scenario decided by the resolve engine on a small world; nothing live changes; the run is audited."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from drills.models import DrillRun
from drills.services import drill_preview, drill_run
from registry.models import AuditEvent, CatalogModel, Deployment, Vendor
from routing.cache import relevant
from tests.drills.conftest import add_features, resolve_answers

pytestmark = pytest.mark.django_db


def rows_by_place(run):
    return {(row["feature_slug"], row["region"]): row for row in run.result["rows"]}


def test_vendor_unavailable_moves_routes_to_another_vendors_fallback_and_leaves_the_rest_without_one(
    world, governance_admin
):
    run = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    rows = rows_by_place(run)
    moved = rows[("claims-triage", "eu")]
    assert moved["outcome"] == "moves"
    assert moved["serves_now"] == {"route": "primary", "model": "acme/atlas"}
    assert moved["serves_after"] == {"route": "fallback 1", "model": "bolt/breeze"}
    lost = rows[("claims-triage", "us")]
    assert lost["outcome"] == "loses" and lost["serves_after"] is None
    assert any("Acme AI is suspended" in reason for reason in lost["reasons"])
    assert any("not hosted in us" in reason for reason in lost["reasons"])
    assert lost["still_served_in"] == ["eu"]  # the feature keeps a route in the EU
    assert rows[("fraud-scoring", "eu")]["outcome"] == "loses"
    assert rows[("fraud-scoring", "eu")]["still_served_in"] == []
    assert ("care-bot", "eu") not in rows  # bolt only: unaffected
    assert (run.routes_total, run.routes_lost, run.routes_moved, run.routes_warned, run.features_affected) == (
        4,
        2,
        1,
        0,
        2,
    )
    assert run.title == "Vendor Acme AI unavailable" and run.parameters == {"vendor": "acme"}


def test_model_suspended_takes_only_that_model_out(world, governance_admin):
    run = drill_run(actor=governance_admin, kind="model_suspended", model=world["breeze"])
    rows = rows_by_place(run)
    assert rows[("care-bot", "eu")]["outcome"] == "loses"
    assert any("bolt/breeze is suspended" in reason for reason in rows[("care-bot", "eu")]["reasons"])
    # claims-triage eu keeps acme/atlas but loses its only fallback: warned, not moved.
    assert rows[("claims-triage", "eu")]["outcome"] == "warned"
    assert rows[("claims-triage", "eu")]["fallbacks_after"] == []
    assert rows[("claims-triage", "eu")]["summary"] == "keeps primary acme/atlas; no longer falls back to bolt/breeze"
    assert ("fraud-scoring", "eu") not in rows and ("claims-triage", "us") not in rows
    assert run.parameters == {"model": world["breeze"].pk, "model_label": "bolt/breeze"}


def test_region_lost_leaves_every_route_there_without_a_route_and_names_where_each_feature_still_serves(
    world, governance_admin
):
    run = drill_run(actor=governance_admin, kind="region_lost", region=world["eu"])
    rows = rows_by_place(run)
    assert {place for place, row in rows.items() if row["outcome"] == "loses"} == {
        ("claims-triage", "eu"),
        ("fraud-scoring", "eu"),
        ("care-bot", "eu"),
    }
    assert rows[("claims-triage", "eu")]["still_served_in"] == ["us"]
    assert ("claims-triage", "us") not in rows
    assert any("eu is unavailable (drill)" in reason for reason in rows[("care-bot", "eu")]["reasons"])


def test_evidence_older_by_n_days_warns_about_the_evidence_that_would_be_stale_and_keeps_every_route(
    world, governance_admin
):
    # The evidence is 10 days old; the production gate wants benchmark and safety within 90 days, a
    # privacy review within 365.
    quiet = drill_run(actor=governance_admin, kind="evidence_aged", days=30)
    assert quiet.result["rows"] == [] and quiet.routes_total == 4
    run = drill_run(actor=governance_admin, kind="evidence_aged", days=100)
    rows = rows_by_place(run)
    assert {row["outcome"] for row in rows.values()} == {"warned"}
    assert run.routes_lost == run.routes_moved == 0
    claims = rows[("claims-triage", "eu")]
    assert claims["serves_after"] == claims["serves_now"]  # the route stays
    stale = " ".join(claims["warnings"])
    assert "Benchmark evidence is stale" in stale and "Safety evidence is stale" in stale
    assert "Privacy" not in stale and "Promotions are blocked" in stale
    assert run.title == "Evidence 100 days older"


def test_a_drill_changes_nothing_live(world, governance_admin):
    deployments = list(
        Deployment.objects.values_list("feature_id", "environment", "region_id", "version_id", "updated_at")
    )
    statuses = (
        list(Vendor.objects.values_list("slug", "status")),
        list(CatalogModel.objects.values_list("pk", "status")),
    )
    before = resolve_answers(governance_admin, world)
    for kwargs in (
        {"kind": "vendor_unavailable", "vendor": world["acme"]},
        {"kind": "model_suspended", "model": world["atlas"]},
        {"kind": "region_lost", "region": world["eu"]},
        {"kind": "evidence_aged", "days": 400},
    ):
        drill_run(actor=governance_admin, **kwargs)
    assert (
        list(Deployment.objects.values_list("feature_id", "environment", "region_id", "version_id", "updated_at"))
        == deployments
    )
    assert (
        list(Vendor.objects.values_list("slug", "status")),
        list(CatalogModel.objects.values_list("pk", "status")),
    ) == statuses
    assert resolve_answers(governance_admin, world) == before


def test_running_a_drill_is_audited_and_does_not_invalidate_resolve(world, governance_admin):
    run = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"], note="Quarterly drill.")
    event = AuditEvent.objects.get(action="drill.run")
    assert event.object_id == str(run.pk) and event.actor == governance_admin
    assert event.payload["parameters"] == {"vendor": "acme"}
    assert event.payload["summary"] == {"routes": 4, "lost": 2, "moved": 1, "warned": 0, "features": 2}
    assert not relevant("drill.run")


def test_a_preview_saves_nothing(world, governance_admin):
    spec, result = drill_preview(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    assert result.count("loses") == 2
    assert not DrillRun.objects.exists() and not AuditEvent.objects.filter(action="drill.run").exists()


@pytest.mark.parametrize("persona", ["security_reviewer", "auditor", "ml_engineer", "product_owner", "outsider"])
def test_only_governance_runs_drills(world, persona, request):
    with pytest.raises(PermissionDenied):
        drill_run(actor=request.getfixturevalue(persona), kind="vendor_unavailable", vendor=world["acme"])
    assert not DrillRun.objects.exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"kind": "vendor_unavailable"}, "vendor"),
        ({"kind": "model_suspended"}, "model"),
        ({"kind": "region_lost"}, "region"),
        ({"kind": "evidence_aged", "days": 0}, "days"),
        ({"kind": "meteor"}, "kind"),
    ],
)
def test_a_scenario_without_its_subject_is_refused_by_field(world, governance_admin, kwargs, field):
    with pytest.raises(ValidationError) as refused:
        drill_run(actor=governance_admin, **kwargs)
    assert field in refused.value.message_dict
    assert not DrillRun.objects.exists()


def test_a_drill_costs_the_same_queries_for_few_or_many_deployments(world, governance_admin):
    drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])  # the actor's roles, once
    with CaptureQueriesContext(connection) as few:
        drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    add_features(world, 6, by=governance_admin)
    with CaptureQueriesContext(connection) as many:
        run = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    assert run.routes_total == 16 and run.routes_moved == 7
    assert len(many.captured_queries) == len(few.captured_queries)
