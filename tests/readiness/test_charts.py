"""The data behind the readiness charts: evaluation scores are drawn one chart per kind, each in its own unit
with its thresholds, never a latency beside 0-to-1 scores; today's point of "Readiness over time" is the
checklist the page shows beside it, not this morning's snapshot."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from readiness.charts import evaluation_chart, metric_label, unit_of
from readiness.models import ReadinessSnapshot
from readiness.services import readiness_snapshot_take
from registry.models import AIFeature
from tests.factories import EvaluationFactory

pytestmark = pytest.mark.django_db


def point(score, threshold, *, metric="accuracy", days=1, higher=True, version=1):
    return {
        "at": timezone.now() - timedelta(days=days),
        "score": score,
        "threshold": threshold,
        "higher_is_better": higher,
        "passed": score >= threshold if higher else score <= threshold,
        "version": version,
        "suite": "suite",
        "metric": metric,
    }


def embedded(body: str, element_id: str):
    found = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', body, re.S)
    assert found, f"no #{element_id} on the page"
    return json.loads(found.group(1))


def test_a_load_test_latency_never_shares_an_axis_with_scores():
    chart = evaluation_chart(
        {
            "benchmark": [point(0.88, 0.85, days=9), point(0.91, 0.85, days=2, version=2)],
            "load_test": [point(1850, 2500, metric="latency_p95_ms", higher=False)],
            "safety": [point(0.98, 0.95, metric="refusal_rate")],
        }
    )

    by_kind = {group["kind"]: group for group in chart["charts"]}
    assert list(by_kind) == ["benchmark", "safety", "load_test"]  # the kinds in their usual order
    assert (by_kind["load_test"]["unit"], by_kind["load_test"]["axis"]) == ("ms", "milliseconds (ms)")
    assert by_kind["benchmark"]["axis"] == by_kind["safety"]["axis"] == "score (0 to 1)"
    for group in chart["charts"]:  # one unit per chart: no score beside a latency
        units = {unit_of(series["metric"], [p["y"] for p in series["points"]])["key"] for series in group["series"]}
        assert units == {group["unit"]}
    latency = by_kind["load_test"]["series"][0]
    assert latency["label"] == "latency p95" and latency["higher_is_better"] is False
    assert [(p["y"], p["threshold"], p["passed"]) for p in latency["points"]] == [(1850, 2500, True)]


def test_each_metric_of_a_kind_is_its_own_line_with_its_own_threshold():
    chart = evaluation_chart(
        {"benchmark": [point(0.96, 0.95, metric="recall"), point(0.93, 0.9, metric="routing_accuracy", days=3)]}
    )

    (group,) = chart["charts"]
    assert [(s["label"], [p["threshold"] for p in s["points"]]) for s in group["series"]] == [
        ("recall", [0.95]),
        ("routing accuracy", [0.9]),
    ]
    assert len({s["color"] for s in group["series"]}) == 2


def test_units_come_from_the_metric_name_or_else_its_values():
    assert unit_of("latency_p95_ms", [1850, 2500])["key"] == "ms"
    assert unit_of("time_to_answer_s", [1.2, 2])["key"] == "s"
    assert unit_of("pass_rate", [0.9, 0.85])["key"] == "share"
    assert unit_of("tokens_per_answer", [310, 400])["key"] == "value"
    assert metric_label("latency_p95_ms") == "latency p95"


def test_the_table_under_the_charts_shows_each_score_in_its_unit_and_the_threshold_direction():
    chart = evaluation_chart({"load_test": [point(1850, 2500, metric="latency_p95_ms", higher=False)]})

    (row,) = chart["rows"]
    assert (row["kind"], row["score_text"], row["threshold_text"]) == ("Load test", "1850 ms", "≤ 2500 ms")


def test_the_feature_page_embeds_one_chart_per_kind_and_keeps_the_table(client, claims_live, product_owner):
    EvaluationFactory(
        version=claims_live["v2"],
        kind="load_test",
        suite="peak",
        metric="latency_p95_ms",
        score=1850,
        threshold=2500,
        higher_is_better=False,
    )
    client.force_login(product_owner)

    body = client.get(reverse("readiness:feature", args=["claims-triage"])).content.decode()

    data = embedded(body, "evaluation-data")
    kinds = [group["kind"] for group in data["charts"]]
    assert "load_test" in kinds and "benchmark" in kinds
    assert body.count('data-chart="evaluation-data"') == len(data["charts"])  # one canvas per chart
    latency = next(group for group in data["charts"] if group["kind"] == "load_test")
    assert latency["axis"] == "milliseconds (ms)" and len(latency["series"]) == 1
    assert all(group["unit"] == "share" for group in data["charts"] if group["kind"] != "load_test")
    assert 'id="evaluation-table"' in body and '<td class="num">1850 ms</td>' in body


def test_todays_readiness_point_is_the_checklist_beside_it(client, claims_live, product_owner):
    readiness_snapshot_take()  # this morning: the snapshot has the monitor in place
    feature = claims_live["feature"]
    yesterday = timezone.localdate() - timedelta(days=1)
    snapshot = ReadinessSnapshot.objects.get(feature=feature)
    ReadinessSnapshot.objects.create(
        **{f.name: getattr(snapshot, f.name) for f in ReadinessSnapshot._meta.fields if f.name not in ("id", "day")},
        day=yesterday,
    )
    before = snapshot.ok_count
    AIFeature.objects.filter(pk=feature.pk).update(monitors="")  # since then the monitor went away
    client.force_login(product_owner)

    response = client.get(reverse("readiness:feature", args=["claims-triage"]))

    readiness = response.context["readiness"]
    assert readiness.ok_count == before - 1 and "monitor" in readiness.missing
    rows = response.context["history_chart"]["rows"]
    assert [row["day"] for row in rows] == [yesterday.isoformat(), timezone.localdate().isoformat()]
    today = rows[-1]
    assert (today["ok"], today["total"], today["percent"], today["now"]) == (
        readiness.ok_count,
        readiness.total,
        readiness.percent,
        True,
    )
    assert "Monitor" in today["missing"] and rows[0]["ok"] == before
    body = response.content.decode()
    assert embedded(body, "feature-history-data")["percent"][-1] == readiness.percent
    assert f"{readiness.ok_count}/{readiness.total}" in body


def test_the_inventorys_today_point_counts_what_the_gap_tables_count(client, claims_live, governance_admin):
    readiness_snapshot_take()
    AIFeature.objects.filter(pk=claims_live["feature"].pk).update(monitors="")
    client.force_login(governance_admin)

    response = client.get(reverse("readiness:dashboard"))

    today = response.context["history_chart"]["rows"][-1]
    gaps = response.context["gaps"]
    assert today["now"] and (today["features"], today["ready"]) == (gaps["features"], gaps["ready"])
    assert today["ready"] == 0
