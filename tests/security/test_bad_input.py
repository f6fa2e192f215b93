"""Hostile or broken input: a clear 4xx or form error, nothing stored half-way, and whatever text is stored
(emoji, right-to-left, markup) comes back escaped on every page and in every export.

Gatehouse has no CSV export (the exports are the API's JSON and the evidence pack as JSON, HTML and
PDF), so formula injection has no cell to land in; ``test_no_page_or_api_answers_csv`` keeps it so.
"""

import json

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Incident
from packs.content import evidence_pack_content
from packs.render import render_html, render_json
from registry.models import AIFeature, AuditEvent
from registry.services import api_token_create
from routing.models import DecisionRecord
from routing.services import LEDGER_BATCH_LIMIT
from tests.factories import FeatureFactory

FEATURES = "/api/v1/features/"
SCRIPT = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
UNICODE = "Triage 🚑 دعم العملاء ‮RTL‬ 日本語"


def api_as(user):
    _, raw = api_token_create(actor=user, user=user, name="bad-input")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def api(product_owner):
    return api_as(product_owner)


@pytest.fixture
def feature_payload(team, product_owner, eu):
    def payload(**changes):
        return {
            "slug": "claims-triage",
            "name": "Claims triage",
            "purpose": "Route claims.",
            "team": team.slug,
            "accountable_owner": product_owner.username,
            "incident_owner": product_owner.username,
            "risk_tier": "medium",
            "regions": ["eu"],
            "intended_uses": "Routing.",
            "disallowed_uses": "Pricing.",
            "data_classification": "internal",
            **changes,
        }

    return payload


def counts():
    return AIFeature.objects.count(), AuditEvent.objects.count(), Incident.objects.count()


# --- Size, syntax, types ------------------------------------------------------------------------


def test_a_json_body_over_the_upload_limit_is_refused_with_a_json_400_and_stores_nothing(api, feature_payload):
    before = counts()
    body = json.dumps(feature_payload(purpose="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)))

    response = api.post(FEATURES, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is too large.", "code": "request_too_large"}
    assert counts() == before


def test_a_ledger_of_one_record_too_many_is_refused_whole(ml_engineer):
    records = [{"request_id": f"req-{n}", "decision": "x" * 40} for n in range(LEDGER_BATCH_LIMIT + 1)]

    response = api_as(ml_engineer).post("/api/v1/decisions/ledger/", {"records": records}, format="json")

    assert response.status_code == 400
    assert f"{LEDGER_BATCH_LIMIT:,}" in json.dumps(response.json()) or str(LEDGER_BATCH_LIMIT) in json.dumps(
        response.json()
    )
    assert not DecisionRecord.objects.exists()


@pytest.mark.parametrize("body", ['{"slug": "claims-triage",', "not json", '{"name": NaN}', "[1, 2", "\x00"])
def test_malformed_json_is_a_400_that_says_so_and_stores_nothing(api, body):
    before = counts()

    response = api.post(FEATURES, body, content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert counts() == before


@pytest.mark.parametrize("slug", ["Claims Triage", "claims/triage", "../etc", "ä" * 3, "x" * 200, ""])
def test_an_invalid_slug_is_a_field_error_and_stores_nothing(api, feature_payload, slug):
    before = counts()

    response = api.post(FEATURES, feature_payload(slug=slug), format="json")

    assert response.status_code == 400
    assert "slug" in response.json()
    assert counts() == before


def test_an_unknown_feature_slug_in_a_url_is_a_json_404(api):
    for path in ("/api/v1/features/no-such-feature/", "/api/v1/incidents/0.5/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["detail"], path


def test_a_nul_byte_in_a_lookup_or_filter_is_a_4xx_never_a_server_error(api):
    for path in ("/api/v1/features/%00/", "/api/v1/features/?q=%00", "/api/v1/incidents/?feature=%00"):
        response = api.get(path)
        assert 400 <= response.status_code < 500, path
        assert response.json(), path


@pytest.mark.parametrize("when", ["yesterday", "2026-13-45T00:00:00Z", "0000-00-00", "9" * 30])
def test_an_invalid_date_is_a_field_error_and_opens_no_incident(support_agent, team, eu, when):
    feature = FeatureFactory(team=team, regions=[eu])
    client = api_as(support_agent)
    before = counts()

    response = client.post(
        "/api/v1/incidents/",
        {
            "feature": feature.slug,
            "region": "eu",
            "severity": "sev3",
            "impact_start": when,
            "title": "Slow",
            "description": "Slow answers.",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "impact_start" in response.json()
    assert counts() == before


@pytest.mark.parametrize("when", ["yesterday", "2026-02-30T10:00"])
def test_an_invalid_date_in_the_live_at_lookup_is_a_400(api, when):
    response = api.get("/api/v1/live-at/", {"feature": "claims-triage", "at": when})

    assert response.status_code == 400


# --- Unicode -----------------------------------------------------------------------------------


def test_emoji_and_right_to_left_text_are_stored_and_shown_as_written(client, api, feature_payload, product_owner):
    response = api.post(FEATURES, feature_payload(name=UNICODE, purpose=UNICODE), format="json")
    assert response.status_code == 201, response.content

    assert AIFeature.objects.get(slug="claims-triage").name == UNICODE
    client.force_login(product_owner)
    assert UNICODE in client.get(reverse("registry:feature_detail", args=["claims-triage"])).content.decode()
    assert api.get(FEATURES + "claims-triage/").json()["name"] == UNICODE


@pytest.mark.parametrize("field", ["name", "purpose", "intended_uses"])
def test_a_nul_byte_in_a_text_field_is_a_field_error_through_the_api(api, feature_payload, field):
    before = counts()

    response = api.post(FEATURES, feature_payload(**{field: "before\x00after"}), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert counts() == before


def test_a_nul_byte_in_the_feature_form_is_a_form_error_that_keeps_the_rest(client, product_owner, team, eu):
    client.force_login(product_owner)
    before = counts()

    response = client.post(
        reverse("registry:feature_create"),
        {
            "slug": "claims-triage",
            "name": "Claims\x00triage",
            "purpose": "Route claims.",
            "team": team.pk,
            "accountable_owner": product_owner.pk,
            "incident_owner": product_owner.pk,
            "risk_tier": "medium",
            "regions": [eu.pk],
            "intended_uses": "Routing.",
            "disallowed_uses": "Pricing.",
            "data_classification": "internal",
        },
    )

    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert 'value="Route claims."' in response.content.decode() or "Route claims." in response.content.decode()
    assert counts() == before


# --- Markup is text, everywhere ----------------------------------------------------------------


@pytest.fixture
def hostile_feature(api, feature_payload):
    fields = {
        name: f"{name} {SCRIPT}"
        for name in (
            "name",
            "purpose",
            "intended_uses",
            "disallowed_uses",
            "escalation_path",
            "slos",
            "operational_fallback",
            "rollback_path",
            "stop_expansion_criteria",
        )
    }
    response = api.post(FEATURES, feature_payload(**fields), format="json")
    assert response.status_code == 201, response.content
    return AIFeature.objects.get(slug="claims-triage")


def assert_escaped(text: str):
    assert "<script>" not in text
    assert "<img src=x" not in text


def test_markup_in_every_feature_field_is_escaped_on_its_pages(client, governance_admin, hostile_feature):
    client.force_login(governance_admin)
    pages = [
        reverse("registry:feature_list"),
        reverse("registry:feature_list") + "?q=script",
        reverse("registry:feature_detail", args=[hostile_feature.slug]),
        reverse("registry:feature_edit", args=[hostile_feature.slug]),
        reverse("registry:audit_list"),
        reverse("registry:home"),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert_escaped(page)
    assert "&lt;script&gt;" in client.get(pages[2]).content.decode()


def test_markup_in_an_incident_is_escaped_on_its_pages(client, support_agent, hostile_feature, eu):
    response = api_as(support_agent).post(
        "/api/v1/incidents/",
        {
            "feature": hostile_feature.slug,
            "region": "eu",
            "severity": "sev3",
            "impact_start": (timezone.now() - timezone.timedelta(hours=1)).isoformat(),
            "title": f"Title {SCRIPT}",
            "description": f"Description {SCRIPT}",
            "customer_impact": f"Impact {SCRIPT}",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get()
    client.force_login(support_agent)

    for url in (reverse("incidents:incident_list"), incident.get_absolute_url()):
        page = client.get(url)
        assert page.status_code == 200, url
        assert_escaped(page.content.decode())
        assert "&lt;script&gt;" in page.content.decode()


def test_markup_stays_text_in_the_evidence_pack_exports(governance_admin, hostile_feature):
    content = evidence_pack_content(feature=hostile_feature, generated_by=governance_admin)

    html = render_html(content).decode()
    assert_escaped(html)
    assert "&lt;script&gt;" in html
    exported = json.loads(render_json(content))
    assert exported["feature"]["name"] == f"name {SCRIPT}"  # JSON keeps the text as written: data, not markup


def test_the_api_returns_markup_as_json_data_not_html(api, hostile_feature):
    response = api.get(FEATURES + hostile_feature.slug + "/")

    assert response["Content-Type"].startswith("application/json")
    assert response.json()["name"] == f"name {SCRIPT}"


def test_no_page_or_api_answers_csv(client, governance_admin, hostile_feature):
    """Formula injection (cells starting = + - @) needs a CSV export: lists answer HTML whatever is asked.
    The CSV downloads (the audit trail's, a feature's decision log) make such cells text
    (tests/registry/test_audit_readable.py, tests/routing/test_decision_export.py)."""
    from django.urls import get_resolver

    names = {str(pattern.pattern) for pattern in get_resolver().url_patterns}
    assert not any("csv" in name.lower() for name in names)
    client.force_login(governance_admin)
    for url in (reverse("registry:feature_list") + "?format=csv", reverse("registry:audit_list") + "?export=csv"):
        assert "csv" not in client.get(url).get("Content-Type", "")
