"""Running and saving a drill. The one path for the page, the API and the demo."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from drills.models import DrillRun
from drills.permissions import require_drill_runner
from drills.scenarios import DrillResult, DrillSpec, drill_evaluate, drill_spec
from registry.services.audit import audit_record


def drill_preview(
    *, actor, kind: str, vendor=None, model=None, region=None, days=None
) -> tuple[DrillSpec, DrillResult]:
    """What the drill would report now, without saving anything (governance admins)."""
    require_drill_runner(actor)
    spec = drill_spec(kind=kind, vendor=vendor, model=model, region=region, days=days)
    return spec, drill_evaluate(spec, now=timezone.now())


def drill_run(*, actor, kind: str, vendor=None, model=None, region=None, days=None, note: str = "") -> DrillRun:
    """Run a drill against every live route and save its report, audited as ``drill.run``.

    Nothing live changes: the resolve engine decides with the scenario applied to a copy of the facts."""
    require_drill_runner(actor)
    spec = drill_spec(kind=kind, vendor=vendor, model=model, region=region, days=days)
    now = timezone.now()
    result = drill_evaluate(spec, now=now)
    run = DrillRun(
        kind=spec.kind,
        parameters=spec.parameters,
        title=spec.title,
        note=(note or "").strip(),
        author=actor,
        created_at=now,
        routes_total=result.routes_total,
        routes_lost=result.count("loses"),
        routes_moved=result.count("moves"),
        routes_warned=result.count("warned"),
        features_affected=result.features_affected,
        result=result.as_json(),
    )
    run.full_clean()
    with transaction.atomic():
        run.save()
        audit_record(
            actor=actor,
            action="drill.run",
            target=run,
            payload={
                "kind": run.kind,
                "parameters": run.parameters,
                "summary": {
                    "routes": run.routes_total,
                    "lost": run.routes_lost,
                    "moved": run.routes_moved,
                    "warned": run.routes_warned,
                    "features": run.features_affected,
                },
            },
        )
    return run
