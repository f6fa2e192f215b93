"""Readiness in the browser: governance opens Readiness from the nav, filters to features missing a monitor,
opens a feature's readiness page, and its charts draw without a JavaScript error (their tables are there too)."""

import pytest
from playwright.sync_api import expect

from readiness.services import readiness_snapshot_take
from registry.models import Evaluation
from tests.browser.navigation import nav_to
from tests.factories import EvaluationFactory, FeatureFactory, RegionFactory, TeamFactory, VersionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inventory(governance_admin):
    from approvals.defaults import install_default_policies
    from approvals.models import GateAssignment, GatePolicy, GateRequirement

    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    eu = RegionFactory(code="eu")
    team = TeamFactory(slug="claims", name="Claims")
    watched = FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        regions=[eu],
        monitors="https://grafana.example.test/d/claims-dash",
        slos="p95 < 2s",
        rollback_path="Flag.",
    )
    FeatureFactory(slug="mail-sorter", name="Mail sorter", team=team, regions=[eu], monitors="")
    version = VersionFactory(feature=watched, number=1)
    for kind, score in (("benchmark", 0.91), ("safety", 0.97), ("benchmark", 0.88)):
        EvaluationFactory(version=version, kind=kind, score=score, threshold=0.85)
    assert Evaluation.objects.count() == 3
    readiness_snapshot_take()
    return watched


def test_governance_filters_the_inventory_and_reads_a_features_charts(as_user, inventory, governance_admin):
    page = as_user(governance_admin)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    nav_to(page, "Readiness")
    expect(page.locator("h1")).to_have_text("Readiness")
    expect(page.locator("#readiness-totals")).to_contain_text("0 of 2 features ready")
    page.locator("#gaps-by-team a[title='Features of Claims missing this']").first.wait_for()
    page.select_option("#id_missing", "monitor")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr")).to_contain_text("Mail sorter")
    page.wait_for_function("document.querySelector('canvas[data-chart]').dataset.drawn === '1'")

    page.goto(page.url.split("/readiness/")[0] + "/readiness/features/claims-triage/")
    expect(page.locator("#readiness-sentence")).to_contain_text("Claims triage is not live anywhere")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('canvas[data-chart]')).every(c => c.dataset.drawn === '1')"
    )
    assert page.locator("canvas[data-chart]").count() == 3  # readiness over time, then benchmark and safety
    expect(page.locator("#evaluation-table tbody tr")).to_have_count(3)
    assert errors == []
