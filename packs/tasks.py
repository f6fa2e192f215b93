"""Celery tasks of the packs app: thin wrappers over ``packs.services``."""

from celery import shared_task

from core.audit_context import audit_context
from packs.services import pack_export_build


# Time limits under the broker's visibility timeout (10 min): see freshness/tasks.py.
@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=420, time_limit=480)
def build_evidence_pack(export_id: int) -> str | None:
    """Build one evidence pack. Safe to run twice: only one run claims the export."""
    with audit_context(source="task"):
        export = pack_export_build(export_id=export_id)
    return export.status if export else None
