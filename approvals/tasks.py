"""Celery tasks of the approvals app: thin wrappers over services."""

from celery import shared_task

from approvals.services import approvals_expire, signoff_reminders_send
from core.audit_context import audit_context


@shared_task(acks_late=True)
def signoff_reminders() -> int:
    """Daily: chase sign-offs older than their gate's review SLA (once per sign-off per day)."""
    with audit_context(source="task"):
        return signoff_reminders_send()


@shared_task(acks_late=True)
def expire_approvals() -> int:
    with audit_context(source="task"):
        return approvals_expire()
