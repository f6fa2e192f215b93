"""Governance suspends or reinstates a vendor or a model; the pages show which live routes that changes
(the vendor and model pages load their "Live routes" section from its own URL)."""

import pytest

from registry.models import AuditEvent, CatalogModel, Vendor
from tests.routing.conftest import bearer, resolve

# Resolve is asked after each change: the cache invalidation runs when the change commits.
pytestmark = pytest.mark.django_db(transaction=True)


HTMX = {"HTTP_HX_REQUEST": "true"}


def status_url(kind, entry, action):
    key = entry.slug if kind == "vendor" else entry.pk
    return f"/routes/{kind}s/{key}/{action}/"


def routes_url(kind, entry):
    """The body of the catalog page's "Live routes" section."""
    key = entry.slug if kind == "vendor" else entry.pk
    return f"/routes/{kind}s/{key}/"


def test_the_vendor_page_shows_each_live_route_and_what_a_suspension_would_do(client, live, pins, governance_admin):
    vendor = pins["model"].vendor
    client.force_login(governance_admin)
    page = client.get(vendor.get_absolute_url()).content.decode()
    assert "<h2>Live routes</h2>" in page and f'hx-get="{routes_url("vendor", vendor)}"' in page
    assert "moves from primary" not in page  # the routes are decided when the section loads, not with the page
    html = client.get(routes_url("vendor", vendor), **HTMX).content.decode()
    assert html.startswith('<div id="live-routes">') and "<html" not in html
    assert "Suspend this vendor" in html
    assert "moves from primary" in html and "mistral-large" in html  # eu and us fall to the other vendor
    assert html.count("claims-triage") >= 2
    assert "2 live routes go through" in html and "Suspending it would change 2 of them" in html


def test_without_javascript_the_section_links_to_the_routes_as_a_page(client, live, pins, governance_admin):
    model = pins["model"]
    client.force_login(governance_admin)
    page = client.get(model.get_absolute_url()).content.decode()
    assert f'href="{routes_url("model", model)}"' in page
    html = client.get(routes_url("model", model)).content.decode()
    assert "<html" in html and f"Live routes through model {model.identifier}" in html
    assert "moves from primary" in html and "Suspend this model" in html


def test_suspending_needs_a_reason_then_is_audited_with_the_routes_it_changed(
    client, router, live, pins, governance_admin
):
    vendor = pins["model"].vendor
    client.force_login(governance_admin)
    confirm = client.get(status_url("vendor", vendor, "suspend"))
    assert confirm.status_code == 200 and "Live routes this changes" in confirm.content.decode()
    missing = client.post(status_url("vendor", vendor, "suspend"), {"reason": "  "})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    assert Vendor.objects.get(pk=vendor.pk).status == "approved"
    done = client.post(
        status_url("vendor", vendor, "suspend"), {"reason": "Security breach at the vendor."}, follow=True
    )
    assert "2 live routes changed" in done.content.decode()
    assert Vendor.objects.get(pk=vendor.pk).status == "suspended"
    event = AuditEvent.objects.get(action="vendor.suspended")
    assert event.payload["reason"] == "Security breach at the vendor."
    assert {route["region"] for route in event.payload["routes_changed"]} == {"eu", "us"}
    assert resolve(router).json()["model"]["identifier"] == "mistral-large"
    again = client.post(status_url("vendor", vendor, "suspend"), {"reason": "Twice."})
    assert "already suspended" in again.content.decode()


def test_the_confirmation_counts_the_changes_and_lists_at_most_the_first_rows(
    client, live, pins, governance_admin, monkeypatch
):
    import routing.views

    monkeypatch.setattr(routing.views, "ROWS", 1)
    vendor = pins["model"].vendor
    client.force_login(governance_admin)

    page = client.get(status_url("vendor", vendor, "suspend")).content.decode()

    assert "2 live routes change." in page
    assert page.count("moves from primary") == 1
    assert (
        f"Showing the first 1 of 2, by feature name; the API lists them all: <code>/api/v1/vendors/{vendor.slug}/routes/</code>"
        in page
    )


def test_a_model_suspension_that_leaves_no_route_says_so_before_and_resolve_answers_409(
    client, router, live, pins, governance_admin
):
    CatalogModel.objects.filter(pk__in=[model.pk for model in pins["fallback_models"]]).update(status="suspended")
    client.force_login(governance_admin)
    html = client.get(status_url("model", pins["model"], "suspend")).content.decode()
    assert "loses its route" in html and "no route (409)" in html
    client.post(status_url("model", pins["model"], "suspend"), {"reason": "Vendor recalled it."})
    assert resolve(router).status_code == 409
    html = client.get(routes_url("model", pins["model"]), **HTMX).content.decode()
    assert "Reinstate this model" in html and "Reinstating it would change 2 of them" in html
    assert "gets a route back" in html
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
    assert "Suspend this" not in client.get(routes_url("model", pins["model"]), **HTMX).content.decode()
    assert "Suspend this" not in client.get(routes_url("vendor", pins["model"].vendor), **HTMX).content.decode()


def test_the_api_previews_and_suspends(live, pins, governance_admin):
    api = bearer(governance_admin)
    preview = api.get(f"/api/v1/vendors/{pins['model'].vendor.slug}/routes/").json()
    assert {
        (row["region"], row["serves_now"].split("/")[1], row["serves_after"].split("/")[1])
        for row in preview["results"]
    } == {("eu", "claude-sonnet-4", "mistral-large"), ("us", "claude-sonnet-4", "mistral-large")}
    assert preview["count"] == 2 and preview["totals"] == {"routes": 2, "changed": 2}
    done = api.post(f"/api/v1/vendors/{pins['model'].vendor.slug}/suspend/", {"reason": "Breach."}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "suspended"
    assert len(done.json()["routes_changed"]) == 2
    missing = api.post(f"/api/v1/vendors/{pins['model'].vendor.slug}/reinstate/", {}, format="json")
    assert missing.status_code == 400


def test_restricted_routes_are_left_out_for_those_who_may_not_see_them(client, live, feature, pins, outsider):
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    client.force_login(outsider)
    for kind, entry in (("vendor", pins["model"].vendor), ("model", pins["model"])):
        html = client.get(routes_url(kind, entry), **HTMX).content.decode()
        assert "claims-triage" not in html and "No live route goes through" in html
    body = bearer(outsider).get(f"/api/v1/vendors/{pins['model'].vendor.slug}/routes/").json()
    assert body["results"] == [] and body["count"] == 0 and body["totals"] == {"routes": 0, "changed": 0}


@pytest.mark.parametrize("target", ["section", "api"])
def test_the_routes_section_and_api_cost_the_same_queries_for_2_as_for_8_features(
    client, live, pins, governance_admin, django_assert_max_num_queries, target
):
    from registry.models import Deployment
    from tests.factories import FeatureFactory, VersionFactory
    from tests.query_counts import assert_constant

    made = []

    def grow(count):
        for _ in range(count):
            feature = FeatureFactory(slug=f"extra-{len(made)}")
            made.append(feature)
            version = VersionFactory(
                feature=feature,
                model=pins["model"],
                status="submitted",
                config_hash="x" * 64,
                submitted_at=live.submitted_at,
            )
            for region in pins["model"].regions.all():
                Deployment.objects.create(
                    feature=feature,
                    environment="production",
                    region=region,
                    version=version,
                    updated_at=live.submitted_at,
                    updated_by=governance_admin,
                )

    def rows(response):
        return response.content.decode().count("extra-")

    client.force_login(governance_admin)
    vendor = pins["model"].vendor
    if target == "section":
        assert_constant(client, routes_url("vendor", vendor), grow, django_assert_max_num_queries, 12, rows=rows)
    else:
        assert_constant(client, f"/api/v1/vendors/{vendor.slug}/routes/", grow, django_assert_max_num_queries, 12)


def test_the_api_pages_the_routes_changed_first_with_their_totals(client, live, pins, governance_admin, eu):
    from registry.models import Deployment, VersionFallback
    from tests.factories import FeatureFactory, VersionFactory

    # Aardvark is served by the other vendor's model, with the vendor's claude-haiku as its fallback: a live
    # route through the vendor that its suspension leaves alone. First by name, it comes after the two
    # changed routes of claims-triage.
    mistral, haiku = pins["fallback_models"]
    feature = FeatureFactory(slug="aardvark", name="Aardvark", regions=[eu])
    version = VersionFactory(
        feature=feature,
        model=mistral,
        status="submitted",
        config_hash="y" * 64,
        submitted_at=live.submitted_at,
        policy_pack=pins["policy_pack"],
    )
    VersionFallback.objects.create(version=version, model=haiku, position=1)
    Deployment.objects.create(
        feature=feature,
        environment="production",
        region=eu,
        version=version,
        updated_at=live.submitted_at,
        updated_by=governance_admin,
    )
    api = bearer(governance_admin)
    url = f"/api/v1/vendors/{pins['model'].vendor.slug}/routes/"
    first = api.get(url, {"page_size": 2}).json()
    assert first["count"] == 3 and first["totals"] == {"routes": 3, "changed": 2}
    assert [(row["feature"], row["region"], row["changed"]) for row in first["results"]] == [
        ("claims-triage", "eu", True),
        ("claims-triage", "us", True),
    ]
    assert first["previous"] is None and "page=2" in first["next"]
    second = api.get(url, {"page_size": 2, "page": 2}).json()
    assert [(row["feature"], row["changed"], row["summary"]) for row in second["results"]] == [
        ("aardvark", False, f"unchanged: primary {mistral.vendor.slug}/mistral-large serves")
    ]
    assert second["next"] is None and second["totals"] == first["totals"]
    assert api.get(url, {"page_size": 2, "page": 3}).status_code == 404


@pytest.mark.parametrize("kind", ["vendor", "model"])
def test_route_changes_answer_as_decisions_made_with_every_warning_loaded(live, pins, kind):
    """The route changes leave out the freeze and the evidence (only warnings): what serves before and
    after must be what the full decisions say."""
    from django.utils import timezone

    from routing.engine import decide, load_facts_many
    from routing.impact import SUSPEND, _routes_using, _with_status, route_changes

    entry = pins["model"].vendor if kind == "vendor" else pins["model"]
    models = entry.models.all() if kind == "vendor" else type(entry).objects.filter(pk=entry.pk)
    full = load_facts_many(_routes_using(models), now=timezone.now())
    assert full and all(facts.evidence for facts in full)  # the full facts do carry the gate's evidence

    def served(decision):
        return decision.served and (decision.served.id, decision.served.position)

    expected = [
        (
            facts.feature_slug,
            facts.region,
            served(decide(facts)),
            served(
                decide(
                    _with_status(
                        facts,
                        vendor=entry if kind == "vendor" else None,
                        model=entry if kind == "model" else None,
                        status=SUSPEND[kind],
                    )
                )
            ),
        )
        for facts in full
    ]
    changes = route_changes(**{kind: entry}, status=SUSPEND[kind])
    assert [(c.facts.feature_slug, c.facts.region, served(c.before), served(c.after)) for c in changes] == expected
    assert all(c.changed for c in changes)


def _more_routes(count, pins, live, governance_admin, made):
    """``count`` more features on the pinned model, live in each of its regions (the same case for the rules)."""
    from registry.models import Deployment
    from tests.factories import FeatureFactory, VersionFactory

    for _ in range(count):
        feature = FeatureFactory(slug=f"extra-{len(made):02d}", name=f"Extra {len(made):02d}")
        made.append(feature)
        version = VersionFactory(
            feature=feature,
            model=pins["model"],
            status="submitted",
            config_hash="x" * 64,
            submitted_at=live.submitted_at,
            policy_pack=pins["policy_pack"],
        )
        for region in pins["model"].regions.all():
            Deployment.objects.create(
                feature=feature,
                environment="production",
                region=region,
                version=version,
                updated_at=live.submitted_at,
                updated_by=governance_admin,
            )


@pytest.mark.parametrize("target", ["section", "api"])
def test_each_case_is_judged_once_whatever_the_number_of_routes_and_no_route_is_decided_in_full(
    client, live, pins, governance_admin, monkeypatch, target
):
    """Routes the rules see alike (same feature status, region, policy pack and models) are judged once each
    way: the number of judgements does not grow with the routes, and no full decision (with its
    explanation) is built for the section or the API."""
    import routing.impact
    from routing.engine import serving_model

    def no_full_decision(*args, **kwargs):
        raise AssertionError("a catalog change's routes need no full decision")

    monkeypatch.setattr(routing.impact, "decide", no_full_decision)
    judged = []

    def counted(facts, **kwargs):
        judged.append(facts.region)
        return serving_model(facts, **kwargs)

    monkeypatch.setattr(routing.impact, "serving_model", counted)
    vendor = pins["model"].vendor
    url = routes_url("vendor", vendor) if target == "section" else f"/api/v1/vendors/{vendor.slug}/routes/"
    client.force_login(governance_admin)
    made = []
    counts = []
    for count in (2, 6):
        _more_routes(count - len(made), pins, live, governance_admin, made)
        judged.clear()
        response = client.get(url, **HTMX)
        assert response.status_code == 200
        counts.append(len(judged))
    assert counts[0] == counts[1] > 0
    body = client.get(url, **HTMX)
    if target == "api":
        assert body.json()["totals"] == {"routes": 2 + 2 * 6, "changed": 2 + 2 * 6}


def test_the_routes_section_pages_its_rows_with_totals_over_all_of_them(
    client, live, pins, governance_admin, monkeypatch
):
    import routing.panels

    monkeypatch.setattr(routing.panels, "ROWS", 3)
    _more_routes(2, pins, live, governance_admin, [])  # claims-triage and two more, in eu and us: 6 routes
    vendor = pins["model"].vendor
    client.force_login(governance_admin)
    url = routes_url("vendor", vendor)

    def rows(html):
        return html.split("<tbody>")[1].split("</tbody>")[0]

    first = client.get(url, **HTMX).content.decode()
    assert "6 live routes go through" in first and "Suspending it would change 6 of them" in first
    assert rows(first).count("<tr>") == 3
    assert "Showing 1–3 of 6, changed routes first" in first and "Page 1 of 2" in first
    assert f'hx-get="{url}?page=2" hx-target="#live-routes"' in first and f'href="{url}?page=2"' in first
    second = client.get(url, {"page": 2}, **HTMX).content.decode()
    assert rows(second).count("<tr>") == 3 and "Showing 4–6 of 6" in second and "← Previous" in second
    assert "Extra 01" not in rows(first) and "Extra 01" in rows(second)  # by feature name across the pages
    assert "Showing 4–6 of 6" in client.get(url, {"page": 99}, **HTMX).content.decode()  # the nearest page
    page = client.get(url, {"page": 2}).content.decode()  # without htmx: a page of its own, paged alike
    assert "<html" in page and "Showing 4–6 of 6" in page


def test_the_routes_section_counts_only_what_the_user_may_see(client, live, feature, pins, outsider, monkeypatch):
    """The restricted feature's routes are in no total, no page and no page count of an outsider."""
    import routing.panels

    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    monkeypatch.setattr(routing.panels, "ROWS", 1)
    client.force_login(outsider)
    html = client.get(routes_url("vendor", pins["model"].vendor), **HTMX).content.decode()
    assert "claims-triage" not in html and "Page " not in html and "live route" not in html.replace("No live route", "")


def test_a_second_visit_judges_only_the_rows_it_shows_until_a_decision_may_have_changed(
    client, live, pins, governance_admin, monkeypatch
):
    """The order of the routes (changed first) and the totals are kept for those who see the same: the next
    visit judges the rows of its page, not every route. A change that may alter a decision (here the
    fallback's suspension, through the service) is seen at the next visit."""
    import routing.impact
    import routing.panels
    from routing import services

    monkeypatch.setattr(routing.panels, "ROWS", 3)
    _more_routes(2, pins, live, governance_admin, [])  # claims-triage and two more, in eu and us: 6 routes
    judged = []
    load_route_table = routing.impact.load_route_table

    def counted(deployments):
        table = load_route_table(deployments)
        judged.append(len(table))
        return table

    monkeypatch.setattr(routing.impact, "load_route_table", counted)
    vendor = pins["model"].vendor
    url = routes_url("vendor", vendor)
    client.force_login(governance_admin)

    first = client.get(url, **HTMX).content.decode()
    second = client.get(url, {"page": 2}, **HTMX).content.decode()
    assert judged == [6, 3]  # every route once, then the 3 shown
    assert "Suspending it would change 6 of them" in first and "Showing 4–6 of 6" in second
    assert first.count("moves from primary") == 2  # claims-triage falls back to mistral-large; the others have none
    assert "Extra 01" in second and second.count("loses its route") == 3

    mistral, _haiku = pins["fallback_models"]
    services.catalog_status_change(actor=governance_admin, suspend=True, reason="Recalled.", model=mistral)
    judged.clear()
    after = client.get(url, **HTMX).content.decode()
    assert judged == [6]
    assert after.count("loses its route") == 3 and "moves from primary" not in after


def test_a_kept_order_is_never_shown_to_someone_who_sees_less(client, live, feature, pins, governance_admin, outsider):
    """Governance's visit keeps the order of every route; an outsider asks next, and the restricted
    feature's routes are in none of their totals, rows or pages."""
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    vendor = pins["model"].vendor
    client.force_login(governance_admin)
    assert "2 live routes go through" in client.get(routes_url("vendor", vendor), **HTMX).content.decode()
    assert bearer(governance_admin).get(f"/api/v1/vendors/{vendor.slug}/routes/").json()["totals"]["routes"] == 2

    client.force_login(outsider)
    html = client.get(routes_url("vendor", vendor), **HTMX).content.decode()
    assert "claims-triage" not in html and "No live route goes through" in html
    body = bearer(outsider).get(f"/api/v1/vendors/{vendor.slug}/routes/").json()
    assert body["results"] == [] and body["totals"] == {"routes": 0, "changed": 0}
