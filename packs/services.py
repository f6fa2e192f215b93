"""Every write of the packs app: ask for a pack, build it (the Celery task), download it.

Asking and downloading are audited (``evidence_pack.requested``, ``evidence_pack.downloaded`` with the
file's SHA-256), and so is the build's outcome (``evidence_pack.built`` with the SHA-256, or
``evidence_pack.failed``), each in the transaction of its change. Progress updates are plain conditional
updates outside any transaction, so the polling page sees them while the build runs.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.exceptions import Conflict
from packs.choices import STALE_BUILD_MINUTES, ExportStatus, PackFormat, PackKind
from packs.content import evidence_pack_content, technical_file_content, technical_file_retain_until
from packs.models import PackExport
from packs.permissions import can_open_export, require_pack_exporter
from packs.render import render_pack
from registry.models import AIFeature, FeatureVersion
from registry.services import audit_record

log = logging.getLogger(__name__)


def _audit_payload(export: PackExport, **extra) -> dict:
    return {
        **({"kind": export.kind} if export.kind != PackKind.EVIDENCE else {}),
        "format": export.format,
        "version": export.version.number if export.version_id else None,
        "scope": "version" if export.version_id else "feature",
        **extra,
    }


def pack_export_request(
    *,
    actor,
    feature: AIFeature,
    version: FeatureVersion | None = None,
    pack_format: str = PackFormat.PDF,
    kind: str = PackKind.EVIDENCE,
) -> PackExport:
    """Queue a pack of ``feature`` (every version) or of one ``version``; the build starts after the commit.

    ``kind`` ``technical_file``: the feature's technical file (EU AI Act Annex IV, ``compliance``) instead,
    kept at least for its regulatory profile's retention period (``retain_until``)."""
    require_pack_exporter(actor, feature)
    if pack_format not in PackFormat.values:
        raise ValidationError({"format": f"Choose one of: {', '.join(PackFormat.values)}."})
    if kind not in PackKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(PackKind.values)}."})
    if version is not None and version.feature_id != feature.pk:
        raise ValidationError({"version": f"Version v{version.number} is not a version of {feature.slug}."})
    with transaction.atomic():
        export = PackExport(
            feature=feature,
            version=version,
            kind=kind,
            format=pack_format,
            requested_by=actor,
            step="Waiting for a worker",
            retain_until=technical_file_retain_until(feature) if kind == PackKind.TECHNICAL_FILE else None,
        )
        export.full_clean(exclude=["file"])
        export.save()
        audit_record(
            actor=actor,
            action="evidence_pack.requested",
            target=export,
            feature=feature,
            payload=_audit_payload(export),
        )
        transaction.on_commit(lambda: _queue_build(export.pk))
    return export


def _queue_build(export_id: int) -> None:
    from core.queueing import enqueue
    from packs.tasks import build_evidence_pack

    # The broker may be down: never waited on; the export stays queued, and asking again queues it again.
    enqueue(build_evidence_pack, (export_id,), what=f"the build of evidence pack {export_id}")


def _report(export_id: int, percent: int, step: str) -> None:
    PackExport.objects.filter(pk=export_id, status=ExportStatus.BUILDING).update(progress=percent, step=step[:120])


def _claim(export_id: int) -> bool:
    """Take the build: from queued, or from a building claim so old its worker must have died."""
    stale = timezone.now() - timedelta(minutes=STALE_BUILD_MINUTES)
    claimed = PackExport.objects.filter(
        Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.BUILDING, started_at__lt=stale), pk=export_id
    ).update(status=ExportStatus.BUILDING, started_at=timezone.now(), progress=1, step="Starting")
    return claimed == 1


def pack_export_build(*, export_id: int) -> PackExport | None:
    """Build the pack and store its file. Safe to run twice: only one run claims a queued export, and a
    finished one is left as it is. A failure is recorded on the export (and audited), never raised."""
    if not _claim(export_id):
        return PackExport.objects.filter(pk=export_id).first()
    export = PackExport.objects.select_related("feature", "version", "requested_by").get(pk=export_id)
    try:
        build_content = technical_file_content if export.kind == PackKind.TECHNICAL_FILE else evidence_pack_content
        content = build_content(
            feature=export.feature,
            version=export.version,
            generated_by=export.requested_by,
            progress=lambda percent, step: _report(export_id, percent, step),
        )
        _report(export_id, 90, f"Rendering the {export.get_format_display()}")
        data = render_pack(content, export.format)
    except Exception as error:  # noqa: BLE001 - any failure of the build is the export's failure
        log.exception("Evidence pack %s failed", export_id)
        return _finish_failed(export, f"{type(error).__name__}: {error}")
    _report(export_id, 97, "Storing the file")
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        locked = (
            PackExport.objects.select_for_update(of=("self",)).select_related("feature", "version").get(pk=export_id)
        )
        if locked.status != ExportStatus.BUILDING:
            return locked
        locked.file.save(locked.download_name, ContentFile(data), save=False)
        locked.size, locked.sha256 = len(data), digest
        locked.status, locked.progress, locked.step = ExportStatus.READY, 100, "Ready"
        locked.finished_at = timezone.now()
        locked.save(update_fields=["file", "size", "sha256", "status", "progress", "step", "finished_at"])
        audit_record(
            actor=locked.requested_by,
            action="evidence_pack.built",
            target=locked,
            feature=locked.feature,
            payload=_audit_payload(
                locked, sha256=digest, size=len(data), chain_holds=content["audit"]["verification"]["holds"]
            ),
        )
    return locked


def _finish_failed(export: PackExport, error: str) -> PackExport:
    with transaction.atomic():
        locked = (
            PackExport.objects.select_for_update(of=("self",)).select_related("feature", "version").get(pk=export.pk)
        )
        if locked.status != ExportStatus.BUILDING:
            return locked
        locked.status, locked.step, locked.error = ExportStatus.FAILED, "Failed", error[:2000]
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "step", "error", "finished_at"])
        audit_record(
            actor=locked.requested_by,
            action="evidence_pack.failed",
            target=locked,
            feature=locked.feature,
            payload=_audit_payload(locked, error=error[:200]),
        )
    return locked


def pack_export_download(*, actor, export: PackExport):
    """Record the download (with the file's SHA-256) and return the open file. Only its requester, while
    still allowed to export the feature's packs, downloads a ready pack."""
    if not can_open_export(actor, export):
        raise PermissionDenied("Only the person who asked for this pack downloads it.")
    if export.status != ExportStatus.READY:
        raise Conflict(f"This pack is {export.get_status_display().lower()}, not ready to download.")
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Conflict("This pack's file is no longer stored; ask for a new pack.") from None
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="evidence_pack.downloaded",
            target=export,
            feature=export.feature,
            payload=_audit_payload(export, sha256=export.sha256, size=export.size),
        )
    return handle
