"""The evaluation charts in the browser: a load test's latency is drawn on a chart of its own, in
milliseconds, apart from the 0-to-1 scores, each metric with its threshold dashed; the figures stay in a
table; and on a phone the charts fit the screen."""

from datetime import timedelta

import pytest
from django.utils import timezone

from readiness.services import readiness_snapshot_take
from tests.factories import EvaluationFactory, FeatureFactory, RegionFactory, VersionFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = """() => Array.from(document.querySelectorAll('canvas[data-chart="evaluation-data"]')).map(canvas => {
  const chart = Chart.getChart(canvas);
  const y = chart.scales.y;
  return {
    axis: chart.options.scales.y.title.text,
    min: y.min, max: y.max,
    lines: chart.data.datasets.filter(d => !d.isThreshold).map(d => d.label),
    thresholds: chart.data.datasets.filter(d => d.isThreshold).map(d => ({dash: d.borderDash, y: d.data.map(p => p.y)})),
    width: canvas.getBoundingClientRect().width,
  };
})"""


@pytest.fixture
def scored(governance_admin):
    eu = RegionFactory(code="eu")
    feature = FeatureFactory(slug="claims-triage", name="Claims triage", regions=[eu])
    v1 = VersionFactory(feature=feature, number=1)
    v2 = VersionFactory(feature=feature, number=2)
    now = timezone.now()
    EvaluationFactory(
        version=v1,
        kind="benchmark",
        metric="routing_accuracy",
        score=0.88,
        threshold=0.85,
        run_at=now - timedelta(days=20),
    )
    EvaluationFactory(
        version=v2,
        kind="benchmark",
        metric="routing_accuracy",
        score=0.93,
        threshold=0.9,
        run_at=now - timedelta(days=5),
    )
    EvaluationFactory(
        version=v2,
        kind="load_test",
        suite="peak",
        metric="latency_p95_ms",
        score=1850,
        threshold=2500,
        higher_is_better=False,
        run_at=now - timedelta(days=4),
    )
    readiness_snapshot_take()
    return feature


def open_readiness(page, live_server):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/readiness/features/claims-triage/")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('canvas[data-chart]')).every(c => c.dataset.drawn === '1')"
    )
    return errors


def test_latency_and_scores_are_drawn_apart_each_with_its_unit_and_dashed_thresholds(
    as_user, live_server, scored, governance_admin
):
    page = as_user(governance_admin)
    errors = open_readiness(page, live_server)

    charts = page.evaluate(CHARTS)

    assert [chart["axis"] for chart in charts] == ["score (0 to 1)", "milliseconds (ms)"]
    scores, latency = charts
    assert scores["lines"] == ["routing accuracy"] and latency["lines"] == ["latency p95"]
    assert scores["max"] <= 1 and scores["min"] > 0.5  # the scores fill their chart, not a line at zero
    assert latency["min"] < 1850 < 2500 < latency["max"]
    assert scores["thresholds"][0]["dash"] and latency["thresholds"][0]["dash"]
    assert 0.85 in scores["thresholds"][0]["y"] and 0.9 in scores["thresholds"][0]["y"]  # it moved: a step
    assert set(latency["thresholds"][0]["y"]) == {2500}
    page.get_by_text("Evaluation scores as a table").click()  # the figures, for a screen reader or a closer look
    table = page.locator("#evaluation-table")
    assert table.is_visible() and table.locator("tbody tr").count() == 3
    assert "1850 ms" in table.inner_text() and "≤ 2500 ms" in table.inner_text()
    assert errors == []


def test_on_a_phone_the_charts_fit_the_screen(browser, live_server, scored, governance_admin, password):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", governance_admin.username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("header.topbar")
    errors = open_readiness(page, live_server)

    charts = page.evaluate(CHARTS)

    assert len(charts) == 2 and all(0 < chart["width"] <= 390 for chart in charts)
    assert errors == []
    context.close()
