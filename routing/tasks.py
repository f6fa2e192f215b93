from celery import shared_task

from routing import pending


@shared_task
def publish_pending_invalidations() -> int:
    """Every minute: publish invalidations recorded while the shared cache was unreachable (a no-op,
    one small query, when none wait)."""
    return pending.publish()
