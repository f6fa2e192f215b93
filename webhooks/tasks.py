"""Celery tasks of the webhooks app: thin wrappers over ``webhooks.delivery``."""

from celery import shared_task

from webhooks.delivery import deliveries_queue_due, delivery_attempt


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: str) -> str:
    """Send one delivery if it is due. Safe to run twice, at once or after a crash: the claim decides who
    sends, and a worker lost mid-request leaves the delivery to the sweep when its claim lapses."""
    return delivery_attempt(delivery_id=delivery_id)


@shared_task(acks_late=True)
def deliver_due() -> int:
    """Every minute (beat): queue every due delivery, so nothing is lost when queueing after a commit failed."""
    return deliveries_queue_due()
