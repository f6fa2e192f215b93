"""Governance suspends or reinstates a vendor or a model; the pages show which live routes that changes."""

import pytest

from registry.models import AuditEvent, CatalogModel, Vendor
from tests.routing.conftest import bearer, resolve

# Resolve is asked after each change: the cache invalidation runs when the change commits.
pytestmark = pytest.mark.django_db(transaction=True)


def status_url(kind, entry, action):
    key = entry.slug if kind == "vendor" else entry.pk
    return f"/routes/{kind}s/{key}/{action}/"


def test_the_vendor_page_shows_each_live_route_and_what_a_suspension_would_do(client, live, pins, governance_admin):
    client.force_login(governance_admin)
    html = client.get(pins["model"].vendor.get_absolute_url()).content.decode()
    assert "Live routes" in html and "Suspend this vendor" in html
    assert "moves from primary" in html and "mistral-large" in html  # eu and us fall to the other vendor
    assert html.count("claims-triage") >= 2


def test_suspending_needs_a_reason_then_is_audited_with_the_routes_it_changed(client, router, live, pins, governance_admin):
    vendor = pins["model"].vendor
    client.force_login(governance_admin)
    confirm = client.get(status_url("vendor", vendor, "suspend"))
    assert confirm.status_code == 200 and "Live routes this changes" in confirm.content.decode()
    missing = client.post(status_url("vendor", vendor, "suspend"), {"reason": "  "})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    assert Vendor.objects.get(pk=vendor.pk).status == "approved"
    done = client.post(status_url("vendor", vendor, "suspend"), {"reason": "Security breach at the vendor."}, follow=True)
    assert "2 live routes changed" in done.content.decode()
    assert Vendor.objects.get(pk=vendor.pk).status == "suspended"
    event = AuditEvent.objects.get(action="vendor.suspended")
    assert event.payload["reason"] == "Security breach at the vendor."
    assert {route["region"] for route in event.payload["routes_changed"]} == {"eu", "us"}
    assert resolve(router).json()["model"]["identifier"] == "mistral-large"
    again = client.post(status_url("vendor", vendor, "suspend"), {"reason": "Twice."})
    assert "already suspended" in again.content.decode()


def test_a_model_suspension_that_leaves_no_route_says_so_before_and_resolve_answers_409(
    client, router, live, pins, governance_admin
):
    CatalogModel.objects.filter(pk__in=[model.pk for model in pins["fallback_models"]]).update(status="suspended")
    client.force_login(governance_admin)
    html = client.get(status_url("model", pins["model"], "suspend")).content.decode()
    assert "loses its route" in html and "no route (409)" in html
    client.post(status_url("model", pins["model"], "suspend"), {"reason": "Vendor recalled it."})
    assert resolve(router).status_code == 409
    client.post(status_url("model", pins["model"], "reinstate"), {"reason": "Fixed."})
    assert resolve(router).json()["route"] == "primary"


@pytest.mark.parametrize("persona", ["ml_engineer", "product_owner", "security_reviewer", "auditor", "support_agent"])
def test_only_governance_may_suspend(client, live, pins, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    assert client.get(status_url("vendor", pins["model"].vendor, "suspend")).status_code == 403
    assert client.post(status_url("model", pins["model"], "suspend"), {"reason": "x"}).status_code == 403
    api = bearer(user).post(f"/api/v1/models/{pins['model'].pk}/suspend/", {"reason": "x"}, format="json")
    assert api.status_code == 403
    assert CatalogModel.objects.get(pk=pins["model"].pk).status == "approved"
    assert "Suspend this" not in client.get(pins["model"].get_absolute_url()).content.decode()


def test_the_api_previews_and_suspends(live, pins, governance_admin):
    api = bearer(governance_admin)
    preview = api.get(f"/api/v1/vendors/{pins['model'].vendor.slug}/routes/").json()
    assert {(row["region"], row["serves_now"].split("/")[1], row["serves_after"].split("/")[1]) for row in preview} == {
        ("eu", "claude-sonnet-4", "mistral-large"), ("us", "claude-sonnet-4", "mistral-large")
    }
    done = api.post(f"/api/v1/vendors/{pins['model'].vendor.slug}/suspend/", {"reason": "Breach."}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "suspended"
    assert len(done.json()["routes_changed"]) == 2
    missing = api.post(f"/api/v1/vendors/{pins['model'].vendor.slug}/reinstate/", {}, format="json")
    assert missing.status_code == 400


def test_restricted_routes_are_left_out_for_those_who_may_not_see_them(client, live, feature, pins, outsider):
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    client.force_login(outsider)
    html = client.get(pins["model"].vendor.get_absolute_url()).content.decode()
    assert "claims-triage" not in html and "No live route goes through" in html
    assert bearer(outsider).get(f"/api/v1/vendors/{pins['model'].vendor.slug}/routes/").json() == []


def test_the_routes_panel_costs_the_same_queries_for_one_or_many_routes(
    client, live, pins, governance_admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import FeatureFactory, VersionFactory
    from registry.models import Deployment

    client.force_login(governance_admin)
    url = pins["model"].vendor.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(5):
        feature = FeatureFactory(slug=f"extra-{n}")
        version = VersionFactory(feature=feature, model=pins["model"], status="submitted", config_hash="x" * 64,
                                 submitted_at=live.submitted_at)
        for region in pins["model"].regions.all():
            Deployment.objects.create(feature=feature, environment="production", region=region, version=version,
                                      updated_at=live.submitted_at, updated_by=governance_admin)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("extra-") >= 10
    assert len(many.captured_queries) == len(few.captured_queries)
