"""Celery tasks of the readiness app: thin wrappers over services."""

from celery import shared_task

from readiness.services import readiness_snapshot_take
from registry.audit_context import audit_context


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=600, time_limit=900)
def readiness_snapshot() -> dict:
    """Scheduled by beat (daily by default; edit it in the admin under Periodic tasks). Safe to rerun:
    the day's snapshot is replaced, never doubled."""
    with audit_context(source="task"):
        outcome = readiness_snapshot_take()
    return {"day": outcome.day.isoformat(), "features": outcome.features, "ready": outcome.ready}
