"""Celery tasks of the connectors. Thin: they take ids, re-fetch, and call the services."""

from celery import shared_task

from connectors.models import MlflowServer
from connectors.services import sync_server
from core.audit_context import audit_context


@shared_task(acks_late=True)
def sync_one(server_id: int, trigger: str = "webhook") -> dict:
    server = MlflowServer.objects.select_related("run_as").filter(pk=server_id, active=True).first()
    if server is None:
        return {"skipped": True}
    with audit_context(source="task"):
        outcome = sync_server(server, trigger=trigger)
    return {"imported": len(outcome.imported), "problems": len(outcome.problems)}


@shared_task
def sync_all() -> int:
    """The beat schedule: queue a sync of every active server."""
    ids = list(MlflowServer.objects.filter(active=True).values_list("pk", flat=True))
    for server_id in ids:
        sync_one.delay(server_id, "schedule")
    return len(ids)
