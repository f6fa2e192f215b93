from celery import shared_task

from routing import pending


@shared_task
def publish_pending_invalidations() -> int:
    """Every minute: publish invalidations recorded while the shared cache was unreachable (a no-op,
    one small query, when none wait)."""
    return pending.publish()


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=480, time_limit=540)
def purge_decision_ledger() -> int:
    """Daily: delete the decision ledger's records older than GATEHOUSE_DECISION_RETENTION_DAYS (audited)."""
    from core.audit_context import audit_context
    from routing.retention import ledger_purge

    with audit_context(source="task"):
        return ledger_purge().deleted


@shared_task(ignore_result=True, soft_time_limit=480, time_limit=540)
def warm_features(slugs: list[str]) -> int:
    """After a change: compute these features' decisions into the shared cache, ahead of traffic."""
    from routing.services import decisions_warm

    return decisions_warm(feature_slugs=slugs)
