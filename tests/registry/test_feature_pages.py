"""The feature pages: finding features (search, filters, pages, htmx), registering one through the
form, and editing one with a reason that lands in the audit trail. Restricted features never show
up for people outside their team, not in lists, searches or the catalog's usage tables."""

from html.parser import HTMLParser

import pytest
from django import forms
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from core.audit_context import AuditSource
from registry.choices import DatasetUsage, FeatureStatus, RiskTier
from registry.models import AIFeature, AuditEvent, Region, Team, VersionDataset, VersionFallback
from registry.permissions import can_edit_feature
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    TeamFactory,
    UserFactory,
    VersionFactory,
)

FEATURE_LIST = reverse("registry:feature_list")


@pytest.fixture
def eu_region(db):
    return Region.objects.get(code="eu")


@pytest.fixture
def us_region(db):
    return Region.objects.get(code="us")


@pytest.fixture
def catalogue(team, other_team, eu_region, us_region):
    """Three features that differ in every filterable way."""
    return {
        "claims-triage": FeatureFactory(
            slug="claims-triage",
            name="Claims triage",
            purpose="Routes incoming claims to a handler.",
            team=team,
            risk_tier=RiskTier.HIGH,
            status=FeatureStatus.ACTIVE,
            regions=[eu_region],
        ),
        "payment-fraud": FeatureFactory(
            slug="payment-fraud",
            name="Payment fraud",
            purpose="Flags suspicious card payments.",
            team=other_team,
            risk_tier=RiskTier.REGULATED,
            status=FeatureStatus.PROPOSED,
            regions=[us_region],
        ),
        "support-summaries": FeatureFactory(
            slug="support-summaries",
            name="Support summaries",
            purpose="Summarises long tickets.",
            team=team,
            risk_tier=RiskTier.LOW,
            status=FeatureStatus.ACTIVE,
            regions=[eu_region, us_region],
        ),
    }


def listed(response):
    return {feature.slug for feature in response.context["page_obj"].object_list}


# --- Finding features -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, {"claims-triage", "payment-fraud", "support-summaries"}),
        ({"q": "triage"}, {"claims-triage"}),
        ({"q": "CARD PAYMENTS"}, {"payment-fraud"}),  # purpose, case-insensitive
        ({"q": "claims"}, {"claims-triage", "support-summaries"}),  # support-summaries only by its team's name
        ({"team": "claims"}, {"claims-triage", "support-summaries"}),
        ({"risk_tier": "regulated"}, {"payment-fraud"}),
        ({"region": "us"}, {"payment-fraud", "support-summaries"}),
        ({"status": "active"}, {"claims-triage", "support-summaries"}),
        ({"team": "claims", "region": "us"}, {"support-summaries"}),
        ({"q": "no such thing"}, set()),
    ],
)
def test_the_feature_list_searches_and_filters(client, catalogue, outsider, query, expected):
    client.force_login(outsider)

    response = client.get(FEATURE_LIST, query)

    assert response.status_code == 200
    assert listed(response) == expected


def test_the_team_filter_offers_every_team_and_keeps_the_one_chosen(client, catalogue, outsider):
    """The team select is written in Python (``core.widgets.PlainSelect``): the options Django's own select
    would give, the chosen team selected after the search, names escaped."""
    TeamFactory(slug="r-and-d", name="R&D <labs>")
    client.force_login(outsider)

    def options(html):
        found = []

        class Options(HTMLParser):
            def handle_starttag(self, tag, attrs):
                if tag == "option":
                    attributes = dict(attrs)
                    found.append([attributes["value"], "selected" in attributes, ""])

            def handle_data(self, data):
                if found and self.get_starttag_text().startswith("<option"):
                    found[-1][2] += data

        start = html.index('<select name="team"')
        Options().feed(html[start : html.index("</select>", start)])
        return [(value, selected, label.strip()) for value, selected, label in found]

    teams = Team.objects.order_by("name")
    for chosen in ("", "claims", "r-and-d"):
        page = client.get(FEATURE_LIST, {"team": chosen} if chosen else {}).content.decode()
        django_select = forms.Select(choices=[("", "All teams"), *((t.slug, t.name) for t in teams)]).render(
            "team", chosen or None
        )
        assert options(page) == options(django_select), chosen
        assert [value for value, selected, _ in options(page) if selected] == [chosen]
    assert "R&amp;D &lt;labs&gt;" in page and "<labs>" not in page


def test_an_empty_filter_result_says_so_and_offers_to_clear(client, catalogue, outsider):
    client.force_login(outsider)

    response = client.get(FEATURE_LIST, {"q": "no such thing"})

    assert b"No feature matches these filters" in response.content


def test_the_feature_list_is_paginated_and_pages_keep_the_filters(client, team, product_owner):
    owner = UserFactory(username="owner")
    for index in range(30):
        FeatureFactory(slug=f"feature-{index:02}", team=team, accountable_owner=owner, risk_tier=RiskTier.HIGH)
    client.force_login(product_owner)

    first = client.get(FEATURE_LIST, {"risk_tier": "high"})
    second = client.get(FEATURE_LIST, {"risk_tier": "high", "page": 2})

    assert len(listed(first)) == settings.GATEHOUSE_PAGE_SIZE == 25
    assert "?risk_tier=high&amp;page=2" in first.content.decode()
    assert second.status_code == 200
    assert len(listed(second)) == 30 - settings.GATEHOUSE_PAGE_SIZE
    assert listed(first).isdisjoint(listed(second))
    beyond = client.get(FEATURE_LIST, {"risk_tier": "high", "page": 3})  # past the end: the last page, not a 404
    assert beyond.status_code == 200 and listed(beyond) == listed(second)
    assert listed(client.get(FEATURE_LIST, {"risk_tier": "high", "page": "abc"})) == listed(first)


def test_an_htmx_request_gets_only_the_results_table(client, catalogue, outsider):
    client.force_login(outsider)

    full = client.get(FEATURE_LIST, {"q": "triage"})
    partial = client.get(FEATURE_LIST, {"q": "triage"}, headers={"HX-Request": "true"})

    assert b"<html" in full.content
    assert partial.status_code == 200
    assert b"<html" not in partial.content
    assert b'class="filters"' not in partial.content
    assert b"Claims triage" in partial.content
    assert b"Payment fraud" not in partial.content


# --- Restricted features stay hidden ----------------------------------------------------------


@pytest.fixture
def restricted_feature(team):
    return FeatureFactory(
        slug="fraud-signals", name="Fraud signals", purpose="Secret fraud scoring.", team=team, restricted=True
    )


def test_a_restricted_feature_is_missing_from_an_outsiders_list_and_search(
    client, catalogue, restricted_feature, outsider
):
    client.force_login(outsider)

    everything = client.get(FEATURE_LIST)
    search = client.get(FEATURE_LIST, {"q": "fraud"})
    partial = client.get(FEATURE_LIST, {"q": "fraud"}, headers={"HX-Request": "true"})

    assert "fraud-signals" not in listed(everything)
    assert listed(search) == {"payment-fraud"}
    assert b"Fraud signals" not in everything.content + search.content + partial.content


def test_a_restricted_feature_is_listed_for_its_team(client, catalogue, restricted_feature, ml_engineer):
    client.force_login(ml_engineer)

    assert listed(client.get(FEATURE_LIST, {"q": "fraud"})) == {"payment-fraud", "fraud-signals"}


@pytest.fixture
def shared_catalog_entries(team, catalogue, restricted_feature):
    """A model, a fallback model, a prompt, a policy pack and a dataset used by a visible feature's
    version and by a restricted feature's version."""
    entries = {
        "model": CatalogModelFactory(identifier="shared-model"),
        "fallback": CatalogModelFactory(identifier="shared-fallback"),
        "prompt": PromptVersionFactory(name="shared-prompt"),
        "policy": PolicyPackFactory(name="shared-policy"),
        "dataset": DatasetFactory(name="shared-dataset", owner=team),
    }
    for feature in (catalogue["claims-triage"], restricted_feature):
        version = VersionFactory(
            feature=feature, number=1, model=entries["model"], prompt=entries["prompt"], policy_pack=entries["policy"]
        )
        VersionFallback.objects.create(version=version, model=entries["fallback"], position=1)
        VersionDataset.objects.create(version=version, dataset=entries["dataset"], usage=DatasetUsage.EVALUATION)
    return entries


@pytest.mark.parametrize(
    "name, entry",
    [
        ("model_detail", "model"),
        ("model_detail", "fallback"),
        ("prompt_detail", "prompt"),
        ("policy_detail", "policy"),
        ("dataset_detail", "dataset"),
        ("vendor_detail", "model"),
    ],
)
def test_catalog_usage_tables_hide_restricted_features_from_outsiders(
    client, shared_catalog_entries, outsider, ml_engineer, name, entry
):
    target = shared_catalog_entries[entry]
    url = reverse(f"registry:{name}", args=[target.vendor.slug if name == "vendor_detail" else target.pk])

    client.force_login(outsider)
    seen_by_outsider = client.get(url)
    client.force_login(ml_engineer)
    seen_by_team = client.get(url)

    assert seen_by_outsider.status_code == 200
    assert b"Claims triage" in seen_by_outsider.content
    assert b"Fraud signals" not in seen_by_outsider.content
    assert b"fraud-signals" not in seen_by_outsider.content
    assert b"Fraud signals" in seen_by_team.content


# --- Registering a feature --------------------------------------------------------------------


def registration(team, owner, region, **overrides):
    data = {
        "name": "Claims triage",
        "slug": "claims-triage",
        "purpose": "Routes incoming claims to the right handler.",
        "team": team.pk,
        "accountable_owner": owner.pk,
        "incident_owner": owner.pk,
        "escalation_path": "On-call claims engineer, then the claims lead.",
        "risk_tier": RiskTier.HIGH,
        "regions": [region.pk] if region else [],
        "intended_uses": "Suggesting a queue for a claim.",
        "disallowed_uses": "Rejecting claims.",
        "data_classification": "personal",
        "slos": "",
        "monitors": "",
        "operational_fallback": "",
        "rollback_path": "",
        "stop_expansion_criteria": "",
        "status": FeatureStatus.PROPOSED,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_team_member_registers_a_feature_through_the_form(client, team, product_owner, eu_region):
    client.force_login(product_owner)

    response = client.post(reverse("registry:feature_create"), registration(team, product_owner, eu_region))

    feature = AIFeature.objects.get(slug="claims-triage")
    assert response.status_code == 302
    assert response["Location"] == feature.get_absolute_url()
    assert feature.team == team
    assert feature.risk_tier == RiskTier.HIGH
    assert list(feature.regions.values_list("code", flat=True)) == ["eu"]
    assert feature.created_by == product_owner
    assert can_edit_feature(product_owner, feature)
    event = AuditEvent.objects.get(action="feature.created", object_id=str(feature.pk))
    assert event.source == AuditSource.WEB
    assert event.actor == product_owner
    assert event.feature_id == feature.pk
    assert event.request_id == response["X-Request-ID"]


def test_an_invalid_registration_shows_the_errors_and_keeps_what_was_typed(client, team, product_owner):
    client.force_login(product_owner)
    purpose = "Routes incoming claims & letters to the right handler, quickly."

    response = client.post(
        reverse("registry:feature_create"), registration(team, product_owner, None, name="", purpose=purpose)
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "name" in errors
    assert "regions" in errors
    assert escape(purpose) in response.content.decode()
    assert "Suggesting a queue for a claim." in response.content.decode()
    assert not AIFeature.objects.exists()
    assert not AuditEvent.objects.filter(action="feature.created").exists()


def test_a_team_member_cannot_register_a_feature_for_another_team(client, team, other_team, product_owner, eu_region):
    client.force_login(product_owner)

    response = client.post(reverse("registry:feature_create"), registration(other_team, product_owner, eu_region))

    assert response.status_code == 200
    assert "team" in response.context["form"].errors
    assert not AIFeature.objects.exists()


# --- Editing a feature ------------------------------------------------------------------------


def edit_data(feature, **overrides):
    data = registration(
        feature.team,
        feature.accountable_owner,
        None,
        name=feature.name,
        slug=None,
        purpose=feature.purpose,
        risk_tier=feature.risk_tier,
        escalation_path=feature.escalation_path,
        intended_uses=feature.intended_uses,
        disallowed_uses=feature.disallowed_uses,
        data_classification=feature.data_classification,
        status=feature.status,
        regions=[region.pk for region in feature.regions.all()],
        incident_owner=feature.incident_owner.pk,
    )
    data.update(overrides)
    return data


@pytest.fixture
def feature(team, eu_region):
    return FeatureFactory(
        slug="claims-triage", name="Claims triage", team=team, risk_tier=RiskTier.MEDIUM, regions=[eu_region]
    )


def test_editing_a_feature_without_a_reason_is_refused(client, feature, product_owner):
    client.force_login(product_owner)

    response = client.post(
        reverse("registry:feature_edit", args=[feature.slug]), edit_data(feature, risk_tier=RiskTier.HIGH, reason="")
    )

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    feature.refresh_from_db()
    assert feature.risk_tier == RiskTier.MEDIUM
    assert not AuditEvent.objects.filter(action="feature.updated").exists()


def test_editing_a_feature_records_old_and_new_values_and_the_reason(client, feature, product_owner, us_region):
    client.force_login(product_owner)
    data = edit_data(
        feature,
        risk_tier=RiskTier.HIGH,
        regions=[*edit_data(feature)["regions"], us_region.pk],
        reason="Now also handles personal injury claims.",
    )

    response = client.post(reverse("registry:feature_edit", args=[feature.slug]), data)

    assert response.status_code == 302
    feature.refresh_from_db()
    assert feature.risk_tier == RiskTier.HIGH
    assert sorted(feature.regions.values_list("code", flat=True)) == ["eu", "us"]
    event = AuditEvent.objects.get(action="feature.updated")
    assert event.source == AuditSource.WEB
    assert event.actor == product_owner
    assert event.payload["reason"] == "Now also handles personal injury claims."
    assert event.payload["changes"] == {"risk_tier": ["medium", "high"], "regions": [["eu"], ["eu", "us"]]}


def test_a_member_of_another_team_cannot_open_or_post_the_edit_page(client, feature, other_product_owner):
    client.force_login(other_product_owner)
    url = reverse("registry:feature_edit", args=[feature.slug])

    assert client.get(url).status_code == 403
    assert client.post(url, edit_data(feature, risk_tier=RiskTier.LOW, reason="Mine now.")).status_code == 403
    feature.refresh_from_db()
    assert feature.risk_tier == RiskTier.MEDIUM
    assert not AuditEvent.objects.filter(action="feature.updated").exists()
