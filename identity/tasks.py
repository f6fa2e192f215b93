"""Celery tasks of the identity app: thin wrappers over services."""

from celery import shared_task

from core.audit_context import audit_context
from identity.reviews.services import access_review_reminders_send


@shared_task(acks_late=True)
def access_review_reminders() -> dict:
    """Daily: remind reviewers of pending access review items near the due date, escalate those past it."""
    with audit_context(source="task"):
        return access_review_reminders_send()
