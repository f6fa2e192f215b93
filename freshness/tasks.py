"""Celery tasks of the freshness app: thin wrappers over services."""

from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from core.audit_context import audit_context
from freshness.choices import SweepTrigger
from freshness.services import findings_escalate, findings_recheck, findings_recheck_gates, freshness_sweep


# Time limits stay under the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT, 10 min): a message is
# redelivered only when its worker died, never while it still runs (tests/resilience/test_task_limits.py).
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, soft_time_limit=240, time_limit=300)
def evidence_freshness_sweep(self, trigger: str = SweepTrigger.SCHEDULE, requested_by_id: int | None = None) -> dict:
    """Scheduled by beat (hourly by default; edit it in the admin under Periodic tasks).

    ``acks_late`` with ``reject_on_worker_lost``: a worker (or its child process) that dies mid-run
    leaves the message for another instead of acknowledging it, redelivered after the broker's visibility
    timeout (10 minutes, not Redis's default hour); the rerun is safe because the sweep's writes are one
    transaction (seconds even at 10,000 deployments: bench/) and its notices are keyed on finding revisions.
    """
    requested_by = get_user_model().objects.filter(pk=requested_by_id).first() if requested_by_id else None
    with audit_context(source="task"):
        run = freshness_sweep(trigger=trigger, requested_by=requested_by, task_id=self.request.id or "")
    return {"run": run.pk, "opened": run.findings_opened, "closed": run.findings_closed, "open": run.open_findings}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalate_findings(feature_ids: list[int], now: str | None = None) -> int:
    """Open governance incidents for features blocked past the grace period (each at most once)."""
    when = parse_datetime(now) if now else None
    opened = 0
    with audit_context(source="task"):
        for feature_id in feature_ids:
            opened += findings_escalate(feature_id=feature_id, now=when) is not None
    return opened


@shared_task(
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5
)
def recheck_versions(version_ids: list[int], actor_id: int | None = None, trigger: str = "evaluation") -> int:
    """Judge these versions' evidence again (after new evidence or a promotion or rollback)."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    with audit_context(source="task"):
        outcome = findings_recheck(version_ids=version_ids, actor=actor, trigger=trigger)
    return len(outcome.told)


@shared_task(
    acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=300, max_retries=5
)
def recheck_gate_change(gates: list[str], risk_tiers: list[str], actor_id: int | None = None) -> int:
    """Judge the live versions a gate policy or assignment change governs by the new rules."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    with audit_context(source="task"):
        return findings_recheck_gates(gates=gates, risk_tiers=risk_tiers, actor=actor)
