"""Chart data for the readiness pages: plain JSON for static/readiness/charts.js, and the same figures as
table rows (the accessible fallback under each chart)."""

from __future__ import annotations

from readiness.choices import ReadinessCheck
from registry.choices import EvaluationKind

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563"]


def inventory_history_chart(days: list[dict]) -> dict:
    rows = [
        {
            "day": row["day"].isoformat(),
            "features": row["features"],
            "ready": row["ready"],
            "mean_percent": round((row["mean_score"] or 0) * 100),
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


def feature_history_chart(snapshots) -> dict:
    labels = dict(ReadinessCheck.choices)
    rows = [
        {
            "day": snapshot.day.isoformat(),
            "ok": snapshot.ok_count,
            "total": snapshot.total,
            "percent": round(snapshot.score * 100),
            "ready": snapshot.ready,
            "missing": [labels.get(key, key) for key in snapshot.missing],
        }
        for snapshot in snapshots
    ]
    return {
        "kind": "feature-history",
        "labels": [row["day"] for row in rows],
        "percent": [row["percent"] for row in rows],
        "rows": rows,
    }


def evaluation_chart(series: dict[str, list[dict]]) -> dict:
    labels = dict(EvaluationKind.choices)
    datasets, rows = [], []
    for index, (kind, points) in enumerate(sorted(series.items())):
        datasets.append(
            {
                "label": labels.get(kind, kind),
                "color": PALETTE[index % len(PALETTE)],
                "points": [
                    {
                        "x": int(point["at"].timestamp() * 1000),
                        "y": point["score"],
                        "version": point["version"],
                        "threshold": point["threshold"],
                        "passed": point["passed"],
                    }
                    for point in points
                ],
            }
        )
        rows.extend(
            {
                "at": point["at"].strftime("%Y-%m-%d %H:%M"),
                "kind": labels.get(kind, kind),
                "version": point["version"],
                "suite": point["suite"],
                "metric": point["metric"],
                "score": point["score"],
                "threshold": point["threshold"],
                "passed": point["passed"],
            }
            for point in points
        )
    rows.sort(key=lambda row: row["at"], reverse=True)
    return {"kind": "evaluations", "datasets": datasets, "rows": rows}
