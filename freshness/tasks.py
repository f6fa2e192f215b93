"""Celery tasks of the freshness app: thin wrappers over services."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from freshness.choices import SweepTrigger
from freshness.services import findings_escalate, freshness_sweep
from registry.audit_context import audit_context


@shared_task(bind=True, acks_late=True)
def evidence_freshness_sweep(self, trigger: str = SweepTrigger.SCHEDULE, requested_by_id: int | None = None) -> dict:
    """Scheduled by beat (hourly by default; edit it in the admin under Periodic tasks).

    ``acks_late``: a worker that dies mid-run leaves the message for another; the rerun is safe
    because the sweep's writes are one transaction and its notices are keyed on finding revisions.
    """
    requested_by = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    with audit_context(source="task"):
        run = freshness_sweep(trigger=trigger, requested_by=requested_by, task_id=self.request.id or "")
    return {"run": run.pk, "opened": run.findings_opened, "closed": run.findings_closed, "open": run.open_findings}


@shared_task(acks_late=True)
def escalate_findings(feature_ids: list[int], now: str | None = None) -> int:
    """Open governance incidents for features blocked past the grace period (each at most once)."""
    when = parse_datetime(now) if now else None
    opened = 0
    with audit_context(source="task"):
        for feature_id in feature_ids:
            opened += findings_escalate(feature_id=feature_id, now=when) is not None
    return opened
