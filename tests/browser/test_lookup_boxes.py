"""The feature box of "What was live when?" and the owner box of an incident suggest matches as you type
(htmx fills the box's datalist), and what is picked is what the page looks up or assigns."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidents.services import incident_open
from registry.models import DeploymentEvent
from tests.factories import FeatureFactory, RegionFactory, UserFactory, VersionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def claims(team, product_owner):
    """Claims triage, v1 live in production/eu since two hours ago; a second feature that must not match."""
    eu = RegionFactory(code="eu", name="European Union")
    feature = FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        regions=[eu],
        accountable_owner=product_owner,
        incident_owner=product_owner,
    )
    FeatureFactory(slug="fx-rates", name="Currency rates", team=team, regions=[eu])
    version = VersionFactory(feature=feature, number=1)
    DeploymentEvent.objects.create(
        feature=feature,
        environment="production",
        region=eu,
        kind="promoted",
        to_version=version,
        actor=product_owner,
        reason="Release 1.",
        at=timezone.now() - timedelta(hours=2),
    )
    return feature, eu


def expect_suggestions(page, box, values):
    """Wait until the box's datalist holds exactly ``values`` (focusing the box asks for suggestions too,
    and that answer may land before the one for what was typed)."""
    page.wait_for_function(
        "([box, values]) => JSON.stringify([...document.querySelectorAll(`#${box}-suggestions option`)]"
        ".map(o => o.value)) === JSON.stringify(values)",
        arg=[box, values],
    )


def test_the_feature_box_suggests_as_you_type_and_the_page_looks_up_the_pick(
    sign_in, live_server, claims, support_agent
):
    page = sign_in(support_agent)
    page.goto(f"{live_server.url}/live-at/")

    page.locator("#id_feature").press_sequentially("claims")
    expect_suggestions(page, "id_feature", ["claims-triage"])

    page.fill("#id_feature", "claims-triage")
    page.select_option("#id_region", "eu")
    page.fill("#id_at", (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("body")).to_contain_text("Live then: Claims triage v1")


def test_the_owner_box_suggests_people_and_reassigns_to_the_pick(sign_in, live_server, claims, support_agent):
    feature, eu = claims
    UserFactory(username="rosa-sre", first_name="Rosa", last_name="Reliability", roles=["support"])
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=timezone.now() - timedelta(minutes=30),
        title="Slow answers",
        description="Answers take ten seconds.",
    )
    page = sign_in(support_agent)
    page.goto(f"{live_server.url}{incident.get_absolute_url()}")

    page.fill("#id_owner", "")
    page.locator("#id_owner").press_sequentially("reliab")
    expect_suggestions(page, "id_owner", ["rosa-sre"])

    page.fill("#id_owner", "rosa-sre")
    page.get_by_role("button", name="Reassign").click()
    expect(page.locator("body")).to_contain_text("Changed the owner.")
    expect(page.locator(".page-head .sub")).to_contain_text("owner Rosa Reliability")
