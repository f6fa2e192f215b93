"""Anchoring the audit chain outside the database: signed checkpoints.

A checkpoint says "the chain had reached #sequence, whose hash is head_hash, at this time", signed with the
audit key. It is published where whoever can write the database cannot rewrite it: appended to the anchor
file (GATEHOUSE_AUDIT_ANCHOR_FILE, meant for write-once storage), sent on the webhook stream
(``audit.checkpoint``) and embedded in every evidence pack. ``audit_verify`` holds the chain against the
anchor file, so the newest events removed together with the head, or the whole trail emptied, show.
Beat takes one every 15 minutes ("Audit chain checkpoint"); ``manage.py audit_checkpoint`` takes one now.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from registry import extensions
from registry.models import AuditChainHead, AuditCheckpoint
from registry.services.audit import GENESIS_HASH, Checkpoint, audit_keys, checkpoint_signature

logger = logging.getLogger(__name__)


class AnchorUnavailable(Exception):
    """The anchor file could not be appended to."""


def _append_to_anchor_file(path: str, checkpoint: Checkpoint) -> None:
    """One JSON line, flushed to the disk before we say it is anchored. Append-only: never rewritten."""
    line = json.dumps(checkpoint.as_dict(), sort_keys=True, separators=(",", ":")) + "\n"
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(descriptor, line.encode("utf-8"))  # one write of a short line under O_APPEND: not interleaved
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise AnchorUnavailable(f"cannot append to the anchor file {path}: {error.strerror or error}") from error


def audit_checkpoint_take() -> tuple[Checkpoint, bool]:
    """Sign the chain head as it is now and publish it. Returns (checkpoint, appended to the anchor file).

    The head is read without the chain lock: it is one row, committed with the events it covers, so it
    names a chain that existed. Not audited itself (an event would move the head it vouches for).
    A failure to append to the anchor file is logged and reported, never raised: the checkpoint still
    goes to the webhook stream and the table, and the next one covers the same chain.
    """
    keys = audit_keys()
    head = AuditChainHead.objects.filter(pk=1).values_list("last_sequence", "last_hash").first()
    sequence, head_hash = head if head is not None else (0, GENESIS_HASH)
    at = timezone.now()
    fields = {
        "sequence": sequence,
        "head_hash": head_hash,
        "at": at.astimezone(UTC).isoformat(),
        "key_id": keys.current_id,
    }
    checkpoint = Checkpoint(**fields, signature=checkpoint_signature(fields, key=keys.keys[keys.current_id]))
    anchored = False
    path = settings.GATEHOUSE_AUDIT_ANCHOR_FILE
    if path:
        try:
            _append_to_anchor_file(path, checkpoint)
            anchored = True
        except AnchorUnavailable:
            logger.exception("Audit checkpoint at #%s not anchored", sequence)
    with transaction.atomic():
        AuditCheckpoint.objects.create(
            sequence=sequence,
            head_hash=head_hash,
            at=at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
            anchored=anchored,
        )
        extensions.audit_checkpointed(checkpoint)
    return checkpoint, anchored
