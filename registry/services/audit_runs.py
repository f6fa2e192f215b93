"""Verifying the trail from the web: a run is started here (audited), walked by a worker, and recorded
with its progress and its proof (``AuditVerificationRun``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core import error_codes
from core.exceptions import Conflict
from core.locks import lock_name
from registry.models import AuditEvent, AuditVerificationRun
from registry.permissions import can_read_audit_trail
from registry.selectors import audit_trail_position
from registry.services.audit import audit_record_many, audit_verify

logger = logging.getLogger(__name__)

# A run that has recorded no progress for this long is taken as lost (its worker died): a new one may start.
STALE_AFTER = timedelta(minutes=10)
PROBLEMS_SHOWN = 20

ALREADY_RUNNING = "A verification of the trail is already running: wait for it to finish (it is listed below)."


def verification_running() -> AuditVerificationRun | None:
    """The run in progress, if any (one not heard from for ``STALE_AFTER`` is lost, not running)."""
    return (
        AuditVerificationRun.objects.filter(
            status=AuditVerificationRun.Status.RUNNING, updated_at__gte=timezone.now() - STALE_AFTER
        )
        .order_by("-started_at")
        .first()
    )


def verification_start(*, actor) -> AuditVerificationRun:
    """Start a verification of the whole chain (governance admins and auditors). Refused while another runs.
    The walk itself happens in a worker (``registry.tasks.verify_audit_trail``) once this commits."""
    if not can_read_audit_trail(actor):
        raise PermissionDenied("Verifying the audit trail is open to governance admins and auditors.")
    with transaction.atomic():
        lock_name("audit", "verification")
        if verification_running() is not None:
            raise Conflict(ALREADY_RUNNING, code=error_codes.CONFLICT)
        now = timezone.now()
        AuditVerificationRun.objects.filter(status=AuditVerificationRun.Status.RUNNING).update(
            status=AuditVerificationRun.Status.ERROR,
            finished_at=now,
            message="Lost: the worker stopped recording progress.",
        )
        head = audit_trail_position() or 0
        # A trail purged under retention begins after #1: count what is there, not what ever was.
        first = AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True).first() or 1
        total = max(head - first + 1, 0)
        run = AuditVerificationRun.objects.create(started_by=actor, started_at=now, updated_at=now, total=total)
        audit_record_many(
            [
                dict(
                    actor=actor,
                    action="audit.verification_started",
                    target=run,
                    object_repr=f"Verification #{run.pk}",
                    payload={"events": total},
                )
            ]
        )
        transaction.on_commit(lambda: _queue(run.pk))
    return run


def _queue(run_id: int) -> None:
    from core.queueing import enqueue
    from registry.tasks import verify_audit_trail

    if not enqueue(verify_audit_trail, args=[run_id], what=f"audit verification {run_id}"):
        now = timezone.now()
        AuditVerificationRun.objects.filter(pk=run_id, status=AuditVerificationRun.Status.RUNNING).update(
            status=AuditVerificationRun.Status.ERROR,
            finished_at=now,
            updated_at=now,
            message="The workers' queue could not be reached: nothing was verified. Try again in a minute.",
        )


def verification_execute(run_id: int) -> AuditVerificationRun | None:
    """Walk the chain for a run, recording progress, then its result. A run already finished is left alone."""
    run = AuditVerificationRun.objects.filter(pk=run_id, status=AuditVerificationRun.Status.RUNNING).first()
    if run is None:
        return None

    def progress(checked: int) -> None:
        AuditVerificationRun.objects.filter(pk=run_id).update(checked=checked, updated_at=timezone.now())

    try:
        result = audit_verify(progress=progress, progress_every=200)
    except Exception as error:  # noqa: BLE001 - recorded on the run, so the page says it did not finish
        logger.exception("Audit verification %s failed to run", run_id)
        AuditVerificationRun.objects.filter(pk=run_id).update(
            status=AuditVerificationRun.Status.ERROR,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
            message=f"The verification could not finish: {type(error).__name__}.",
        )
        return AuditVerificationRun.objects.get(pk=run_id)

    first = AuditEvent.objects.order_by("sequence").values("sequence", "at").first()
    last = (
        AuditEvent.objects.filter(sequence=result.last_sequence).values("sequence", "at", "hash").first()
        if result.last_sequence
        else None
    )
    now = timezone.now()
    fields = {
        "status": AuditVerificationRun.Status.PASSED if result.ok else AuditVerificationRun.Status.FAILED,
        "finished_at": now,
        "updated_at": now,
        "checked": result.checked,
        "first_sequence": first["sequence"] if first else None,
        "first_at": first["at"] if first else None,
        "last_sequence": last["sequence"] if last else None,
        "last_at": last["at"] if last else None,
        "head_hash": last["hash"] if last else "",
        "checkpoints": result.checkpoints,
        "problem_count": result.problem_count,
        "first_bad_sequence": result.broken_sequence,
        "message": result.message,
        "problems": [
            {"sequence": problem.sequence, "message": problem.message} for problem in result.problems[:PROBLEMS_SHOWN]
        ],
        "notes": list(result.notes),
    }
    with transaction.atomic():
        AuditVerificationRun.objects.filter(pk=run_id).update(**fields)
        audit_record_many(
            [
                dict(
                    actor=None,
                    action="audit.verification_passed" if result.ok else "audit.verification_failed",
                    object_type="auditverificationrun",
                    object_id=run_id,
                    object_repr=f"Verification #{run_id}",
                    payload={
                        "checked": result.checked,
                        "last_sequence": result.last_sequence,
                        "head_hash": fields["head_hash"],
                        "problems": result.problem_count,
                        "first_bad_sequence": result.broken_sequence,
                        "message": result.message,
                    },
                )
            ]
        )
    return AuditVerificationRun.objects.get(pk=run_id)
