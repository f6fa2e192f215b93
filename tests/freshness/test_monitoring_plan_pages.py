"""The monitoring plan on its pages and over the API: a section of the feature page, a page of its own
(with its open findings and reviews), a form for the team and governance, a review form for the reviewer;
GET and PUT under /api/v1/features/<slug>/monitoring-plan/ and a review POST. Those who may not see a
restricted feature get a 404 everywhere."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from freshness.models import FreshnessFinding, MonitoringPlan, MonitoringReview
from freshness.plans import plan_save
from freshness.services import freshness_sweep
from registry.models import AuditEvent
from tests.freshness.world import default_gates, live  # noqa: F401

DASH = "https://grafana.example.test/d/claims"


@pytest.fixture
def feature(live):
    feature = live.feature(monitors=DASH, slug="claims-triage", name="Claims triage")
    live.version(feature=feature)
    return feature


@pytest.fixture
def plan(feature, product_owner):
    return plan_save(
        actor=product_owner,
        feature=feature,
        reason="Post-market monitoring.",
        monitors=[DASH],
        review_interval_days=30,
        reviewer_role="legal",
        evaluations={"bias": 60},
    )


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def plan_url(feature):
    return f"/api/v1/features/{feature.slug}/monitoring-plan/"


# --- Pages ---------------------------------------------------------------------------------------------


def test_the_feature_page_shows_the_plan_and_what_is_overdue(client, plan, feature, ml_engineer):
    freshness_sweep()  # bias never run: missing
    client.force_login(ml_engineer)

    page = client.get(feature.get_absolute_url()).content.decode()

    assert "Monitoring plan" in page
    assert "The monitoring plan is not kept" in page
    assert "any legal reviewer, every 30 days" in page
    assert reverse("freshness:plan_edit", args=[feature.slug]) in page
    assert reverse("freshness:plan_review", args=[feature.slug]) not in page  # the engineer does not review


def test_a_feature_without_a_plan_says_so_and_offers_to_make_one(client, feature, product_owner, support_agent):
    client.force_login(product_owner)
    page = client.get(feature.get_absolute_url()).content.decode()
    assert "No monitoring plan" in page and reverse("freshness:plan_edit", args=[feature.slug]) in page

    client.force_login(support_agent)
    page = client.get(reverse("freshness:plan_detail", args=[feature.slug])).content.decode()
    assert "has no monitoring plan yet" in page and reverse("freshness:plan_edit", args=[feature.slug]) not in page


def test_the_team_makes_the_plan_on_its_page(client, feature, product_owner):
    client.force_login(product_owner)
    url = reverse("freshness:plan_edit", args=[feature.slug])
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        {
            "monitors": [DASH],
            "reviewer_role": "legal",
            "review_interval_days": "30",
            "every_bias": "60",
            "every_safety": "",
            "reason": "First plan.",
        },
    )

    assert response.status_code == 302
    plan = MonitoringPlan.objects.get(feature=feature)
    assert [(rule.kind, rule.interval_days) for rule in plan.evaluations.all()] == [("bias", 60)]
    assert AuditEvent.objects.filter(action="monitoring_plan.created", actor=product_owner).exists()


def test_a_plan_the_service_refuses_comes_back_with_the_reason(client, feature, product_owner):
    client.force_login(product_owner)

    response = client.post(
        reverse("freshness:plan_edit", args=[feature.slug]),
        {"monitors": [DASH], "review_interval_days": "30", "reason": "No reviewer."},
    )

    assert response.status_code == 200
    assert "a person or a role" in response.content.decode()
    assert not MonitoringPlan.objects.exists()


def test_the_reviewer_records_a_review_and_others_may_not(client, plan, feature, legal_reviewer, ml_engineer):
    url = reverse("freshness:plan_review", args=[feature.slug])
    client.force_login(ml_engineer)
    assert client.post(url, {"note": "Looked."}).status_code == 403

    client.force_login(legal_reviewer)
    response = client.post(url, {"note": "Nothing unusual in the dashboards."}, follow=True)

    assert response.status_code == 200
    assert "Review recorded" in response.content.decode()
    assert "Nothing unusual in the dashboards." in response.content.decode()
    assert MonitoringReview.objects.get().reviewed_by == legal_reviewer


def test_a_restricted_features_plan_is_404_to_those_who_may_not_see_it(client, live, product_owner, outsider):
    feature = live.feature(monitors=DASH, restricted=True, slug="fraud-signals")
    for name in ("freshness:plan_detail", "freshness:plan_edit", "freshness:plan_review"):
        client.force_login(outsider)
        assert client.get(reverse(name, args=[feature.slug])).status_code == 404
    assert api(outsider).get(plan_url(feature)).status_code == 404


def test_plan_findings_are_listed_on_the_dashboard_as_monitoring_plan(client, plan, governance_admin):
    freshness_sweep()
    client.force_login(governance_admin)

    page = client.get(reverse("freshness:dashboard")).content.decode()

    assert "monitoring plan" in page
    finding = FreshnessFinding.objects.get(kind="monitoring_plan", evidence_kind="bias")
    detail = client.get(finding.get_absolute_url()).content.decode()
    assert "re-run under the monitoring plan" in detail and "Open the monitoring plan" in detail


# --- API -----------------------------------------------------------------------------------------------


def test_the_api_reads_the_plan(plan, feature, support_agent):
    freshness_sweep()

    body = api(support_agent).get(plan_url(feature)).json()

    assert body["monitors"] == [DASH] and body["reviewer_role"] == "legal" and body["reviewer"] is None
    assert body["evaluations"] == [{"kind": "bias", "interval_days": 60}]
    assert {finding["evidence_kind"] for finding in body["open_findings"]} == {"bias"}
    assert all(finding["kind"] == "monitoring_plan" for finding in body["open_findings"])


def test_the_api_makes_then_replaces_the_plan(feature, product_owner, legal_reviewer):
    client = api(product_owner)
    assert client.get(plan_url(feature)).status_code == 404  # no plan yet
    body = {
        "monitors": [DASH],
        "reviewer": legal_reviewer.username,
        "review_interval_days": 30,
        "evaluations": [{"kind": "safety", "interval_days": 30}],
        "reason": "First plan.",
    }

    assert client.put(plan_url(feature), body, format="json").status_code == 201
    response = client.put(plan_url(feature), {**body, "review_interval_days": 14}, format="json")

    assert response.status_code == 200 and response.json()["review_interval_days"] == 14
    assert response.json()["reviewer"] == legal_reviewer.username
    assert AuditEvent.objects.filter(action="monitoring_plan.updated").count() == 1


def test_the_api_refuses_a_bad_plan_and_strangers(feature, product_owner, other_product_owner):
    body = {"monitors": [DASH], "reviewer_role": "legal", "review_interval_days": 0, "reason": "x"}
    assert api(product_owner).put(plan_url(feature), body, format="json").status_code == 400
    body["review_interval_days"] = 30
    body["monitors"] = ["https://elsewhere.example.test"]
    response = api(product_owner).put(plan_url(feature), body, format="json")
    assert response.status_code == 400 and "monitors" in response.json()
    body["monitors"] = [DASH]
    assert api(other_product_owner).put(plan_url(feature), body, format="json").status_code == 403
    assert not MonitoringPlan.objects.exists()


def test_the_api_records_the_reviewers_review(plan, feature, legal_reviewer, product_owner):
    url = plan_url(feature) + "review/"
    assert api(product_owner).post(url, {"note": "x"}, format="json").status_code == 403

    response = api(legal_reviewer).post(url, {"note": "All quiet."}, format="json")

    assert response.status_code == 201
    assert response.json()["reviewed_by"] == legal_reviewer.username
    assert AuditEvent.objects.filter(action="monitoring_plan.reviewed").count() == 1


def test_the_dashboard_and_api_filter_plan_findings_from_gate_evidence(client, plan, feature, governance_admin):
    freshness_sweep(now=timezone.now() + timedelta(days=200))  # gate evidence stale too, and the review overdue
    client.force_login(governance_admin)

    listed = client.get(reverse("freshness:dashboard"), {"kind": "monitoring_plan"}).context["object_list"]
    gate = api(governance_admin).get("/api/v1/freshness/findings/", {"kind": "evidence"}).json()["results"]

    assert {(f.kind, f.evidence_kind) for f in listed} == {("monitoring_plan", "bias"), ("monitoring_plan", "")}
    assert gate and {finding["kind"] for finding in gate} == {"evidence"}
