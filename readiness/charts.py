"""Chart data for the readiness pages: plain JSON for static/readiness/charts.js, and the same figures as
table rows (the accessible fallback under each chart)."""

from __future__ import annotations

from readiness.choices import ReadinessCheck
from registry.choices import EvaluationKind

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563"]


def inventory_history_chart(days: list[dict], *, today: dict | None = None) -> dict:
    """One row per day of snapshots; ``today`` (the inventory as the page counts it now) replaces today's
    snapshot, so the last point agrees with the tables beside the chart."""
    if today is not None and days:
        days = [row for row in days if row["day"] != today["day"]] + [{**today, "now": True}]
    rows = [
        {
            "day": row["day"].isoformat(),
            "features": row["features"],
            "ready": row["ready"],
            "mean_percent": round((row["mean_score"] or 0) * 100),
            "now": row.get("now", False),
        }
        for row in days
    ]
    return {
        "kind": "inventory-history",
        "labels": [row["day"] for row in rows],
        "ready": [row["ready"] for row in rows],
        "features": [row["features"] for row in rows],
        "mean_percent": [row["mean_percent"] for row in rows],
        "rows": rows,
    }


def _readiness_row(*, day, ok: int, total: int, ready: bool, missing_keys, labels, now: bool = False) -> dict:
    return {
        "day": day.isoformat(),
        "ok": ok,
        "total": total,
        "percent": round(ok / total * 100) if total else 0,
        "ready": ready,
        "missing": [labels.get(key, key) for key in missing_keys],
        "now": now,
    }


def feature_history_chart(snapshots, *, today=None, readiness=None) -> dict:
    """One row per daily snapshot; with ``readiness`` (the checklist the page shows), today's row is that
    checklist as it stands now, not the snapshot the daily task took this morning: the chart's last point
    and the checklist beside it always agree."""
    labels = dict(ReadinessCheck.choices)
    snapshots = list(snapshots)
    rows = [
        _readiness_row(
            day=snapshot.day,
            ok=snapshot.ok_count,
            total=snapshot.total,
            ready=snapshot.ready,
            missing_keys=snapshot.missing,
            labels=labels,
        )
        for snapshot in snapshots
        if readiness is None or snapshot.day != today
    ]
    if readiness is not None and snapshots:  # no history at all: the page says so rather than show one point
        rows.append(
            _readiness_row(
                day=today,
                ok=readiness.ok_count,
                total=readiness.total,
                ready=readiness.ready,
                missing_keys=readiness.missing,
                labels=labels,
                now=True,
            )
        )
    return {
        "kind": "feature-history",
        "labels": [row["day"] for row in rows],
        "percent": [row["percent"] for row in rows],
        "rows": rows,
    }


# --- Evaluation scores -------------------------------------------------------------------------------
# Scores are not all of one kind: most are shares from 0 to 1, a load test's p95 latency is in
# milliseconds. One axis for all would put 1,850 ms beside 0.91 and flatten every score into a line at
# zero, so each evaluation kind gets its own small chart (split again if a kind mixes units), with its own
# y axis in its own unit and each metric's threshold drawn as a dashed line.

UNIT_SUFFIXES = [
    ("_ms", {"key": "ms", "axis": "milliseconds (ms)", "suffix": " ms"}),
    ("_seconds", {"key": "s", "axis": "seconds (s)", "suffix": " s"}),
    ("_s", {"key": "s", "axis": "seconds (s)", "suffix": " s"}),
    ("_percent", {"key": "percent", "axis": "percent (%)", "suffix": "%"}),
    ("_pct", {"key": "percent", "axis": "percent (%)", "suffix": "%"}),
]
SHARE = {"key": "share", "axis": "score (0 to 1)", "suffix": ""}
PLAIN = {"key": "value", "axis": "value", "suffix": ""}


def unit_of(metric: str, values) -> dict:
    """The unit of a metric, from its name (``latency_p95_ms`` is in milliseconds) or else its values (all
    between 0 and 1: a score from 0 to 1)."""
    name = metric.lower()
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix):
            return unit
    return SHARE if all(0 <= value <= 1 for value in values) else PLAIN


def metric_label(metric: str) -> str:
    """``latency_p95_ms`` → "latency p95"; ``pass_at_1`` → "pass at 1" (the unit is on the axis)."""
    name = metric
    for suffix, _unit in UNIT_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("_", " ").strip() or metric


def _number(value: float, unit: dict) -> str:
    return f"{value:g}{unit['suffix']}"


def evaluation_chart(series: dict[str, list[dict]]) -> dict:
    """``series`` (kind -> points, oldest first) as one chart per evaluation kind and unit, each with one line
    per metric and that metric's threshold, and the same figures as table rows, newest first."""
    kind_labels = dict(EvaluationKind.choices)
    groups: dict[tuple[str, str], dict] = {}
    rows = []
    for kind in sorted(series, key=lambda kind: (list(kind_labels).index(kind) if kind in kind_labels else 99, kind)):
        by_metric: dict[str, list[dict]] = {}
        for point in series[kind]:
            by_metric.setdefault(point["metric"], []).append(point)
        for metric, points in sorted(by_metric.items()):
            unit = unit_of(metric, [v for point in points for v in (point["score"], point["threshold"])])
            group = groups.setdefault(
                (kind, unit["key"]),
                {
                    "id": f"{kind}-{unit['key']}",
                    "kind": kind,
                    "title": kind_labels.get(kind, kind),
                    "unit": unit["key"],
                    "axis": unit["axis"],
                    "series": [],
                },
            )
            higher = points[-1]["higher_is_better"]
            group["series"].append(
                {
                    "label": metric_label(metric),
                    "metric": metric,
                    "color": PALETTE[len(group["series"]) % len(PALETTE)],
                    "higher_is_better": higher,
                    "suffix": unit["suffix"],
                    "points": [
                        {
                            "x": int(point["at"].timestamp() * 1000),
                            "y": point["score"],
                            "threshold": point["threshold"],
                            "version": point["version"],
                            "suite": point["suite"],
                            "passed": point["passed"],
                        }
                        for point in points
                    ],
                }
            )
            rows.extend(
                {
                    "at": point["at"].strftime("%Y-%m-%d %H:%M"),
                    "kind": kind_labels.get(kind, kind),
                    "version": point["version"],
                    "suite": point["suite"],
                    "metric": point["metric"],
                    "score": point["score"],
                    "score_text": _number(point["score"], unit),
                    "threshold": point["threshold"],
                    "threshold_text": ("≥ " if point["higher_is_better"] else "≤ ") + _number(point["threshold"], unit),
                    "passed": point["passed"],
                }
                for point in points
            )
    rows.sort(key=lambda row: row["at"], reverse=True)
    charts = list(groups.values())
    for chart in charts:
        chart["label"] = f"{chart['title']} scores over time, in {chart['axis']}, with each metric's threshold dashed"
    return {"kind": "evaluations", "charts": charts, "rows": rows}
