"""Celery tasks of the incidents app: thin wrappers over services."""

from celery import shared_task

from core.audit_context import audit_context
from incidents.services import serious_report_reminders_send


@shared_task(acks_late=True)
def serious_report_reminders() -> dict:
    """Hourly: remind the owners of serious incidents as the report's deadline nears; escalate to governance."""
    with audit_context(source="task"):
        return serious_report_reminders_send()
