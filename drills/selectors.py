"""Reads of the drills app: saved runs for those who may read them, each report restricted to the
features the reader may see."""

from __future__ import annotations

from django.db.models import QuerySet

from drills.models import DrillRun
from drills.permissions import can_read_drills
from drills.scenarios import Report, visible_report
from registry.permissions import sees_everything
from routing.auth import may_see


def drill_runs_visible_to(user) -> QuerySet[DrillRun]:
    if not can_read_drills(user):
        return DrillRun.objects.none()
    return DrillRun.objects.select_related("author").order_by("-created_at", "-id")


def drill_run_list(*, user) -> QuerySet[DrillRun]:
    """Without the stored results for those who see every feature (the saved figures are theirs);
    with them for the others, whose figures are counted from the rows they may see."""
    runs = drill_runs_visible_to(user)
    return runs.defer("result") if sees_everything(user) else runs


def report_for(run: DrillRun | None, *, user, kind: str | None = None, result: dict | None = None) -> Report:
    """A saved run's report (or a preview's ``result``) as ``user`` may see it."""
    return visible_report(
        run.kind if run is not None else kind,
        run.result if run is not None else result,
        may_see=lambda feature_id, restricted: may_see(user, feature_id=feature_id, restricted=restricted),
    )


def run_figures(run: DrillRun, *, user) -> dict:
    """The saved counts for those who see every feature; for the others, counted from the rows they may see."""
    if sees_everything(user):
        return {
            "total": run.routes_total,
            "lost": run.routes_lost,
            "moved": run.routes_moved,
            "warned": run.routes_warned,
            "features": run.features_affected,
        }
    report = report_for(run, user=user)
    return {
        "total": report.routes_total,
        "lost": report.routes_lost,
        "moved": report.routes_moved,
        "warned": report.routes_warned,
        "features": report.features_affected,
    }


def attach_visible_figures(runs, *, user) -> list[DrillRun]:
    """Set ``.figures`` on each run of a page (no query per row)."""
    runs = list(runs)
    for run in runs:
        run.figures = run_figures(run, user=user)
    return runs
