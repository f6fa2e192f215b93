"""The write path of compliance documents: write a draft, send it for review, approve or send it back.

Sign-off follows the gate's rules: the reviewer holds the legal or governance role and is never the
revision's author (separation of duties). A revision sent for review never changes again (its SHA-256 is
fixed then); a change is a new revision. Each step is audited.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from compliance.choices import DocumentKind, RevisionStatus
from compliance.models import ComplianceDocument, DocumentRevision
from compliance.permissions import can_review_document, can_write_document
from core.exceptions import Conflict
from registry.choices import Role
from registry.models import AIFeature
from registry.selectors import people_who_see, role_holders
from registry.services import audit_record, notify
from registry.signals import feature_updated

MAX_BODY = 20_000
OPEN_STATUSES = (RevisionStatus.DRAFT, RevisionStatus.IN_REVIEW)


def _payload(revision: DocumentRevision, **extra) -> dict:
    return {"kind": revision.document.kind, "revision": revision.number, **extra}


def _clean_body(body: str) -> str:
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": "Write the document: an empty one proves nothing."})
    if len(body) > MAX_BODY:
        raise ValidationError({"body": f"Keep it under {MAX_BODY:,} characters; link longer material."})
    return body


def document_save_draft(*, actor, feature: AIFeature, kind: str, body: str) -> DocumentRevision:
    """Start a new revision of ``feature``'s ``kind`` document, or change the draft its author has open."""
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DocumentKind.values)}."})
    if not can_write_document(actor, feature):
        raise PermissionDenied("Only the feature's team, legal reviewers and governance write its documents.")
    body = _clean_body(body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                document, _ = ComplianceDocument.objects.get_or_create(feature=feature, kind=kind)
        except IntegrityError:  # created by a concurrent first draft
            document = ComplianceDocument.objects.get(feature=feature, kind=kind)
        document = ComplianceDocument.objects.select_for_update().get(pk=document.pk)
        open_revision = document.revisions.filter(status__in=OPEN_STATUSES).first()
        if open_revision is not None:
            if open_revision.status == RevisionStatus.IN_REVIEW:
                raise Conflict(f"Revision {open_revision.number} is in review: it must be approved or sent back first.")
            if open_revision.author_id != actor.pk:
                raise Conflict(
                    f"{open_revision.author.get_username()} has revision {open_revision.number} open as a draft."
                )
            before = open_revision.digest()
            open_revision.body = body
            open_revision.save(update_fields=["body"])
            audit_record(
                actor=actor,
                action="compliance.document_drafted",
                target=open_revision,
                feature=feature,
                payload=_payload(open_revision, old_sha256=before, sha256=open_revision.digest()),
            )
            return open_revision
        number = (document.revisions.aggregate(top=Max("number"))["top"] or 0) + 1
        revision = DocumentRevision.objects.create(
            document=document, number=number, body=body, author=actor, created_at=timezone.now()
        )
        audit_record(
            actor=actor,
            action="compliance.document_drafted",
            target=revision,
            feature=feature,
            payload=_payload(revision, sha256=revision.digest()),
        )
    return revision


def _lock(revision: DocumentRevision) -> DocumentRevision:
    return DocumentRevision.objects.select_for_update().select_related("document__feature").get(pk=revision.pk)


def document_submit(*, actor, revision: DocumentRevision) -> DocumentRevision:
    """Send a draft for review: from now on its text is fixed."""
    with transaction.atomic():
        locked = _lock(revision)
        feature = locked.document.feature
        if not can_write_document(actor, feature):
            raise PermissionDenied("Only the feature's team, legal reviewers and governance write its documents.")
        if locked.status != RevisionStatus.DRAFT:
            raise Conflict(f"Revision {locked.number} is {locked.get_status_display().lower()}, not a draft.")
        if locked.author_id != actor.pk:
            raise Conflict("Only the revision's author sends it for review.")
        locked.status = RevisionStatus.IN_REVIEW
        locked.submitted_at = timezone.now()
        locked.sha256 = locked.digest()
        locked.save(update_fields=["status", "submitted_at", "sha256"])
        audit_record(
            actor=actor,
            action="compliance.document_submitted",
            target=locked,
            feature=feature,
            payload=_payload(locked, sha256=locked.sha256),
        )
        seers = set(people_who_see(feature).values_list("pk", flat=True))
        notify(
            users=[
                person
                for person in role_holders(Role.LEGAL, exclude=[actor.pk])
                + role_holders(Role.GOVERNANCE, exclude=[actor.pk])
                if person.pk in seers
            ],
            subject=f"To review: {locked.document.get_kind_display()} of {feature.name} (r{locked.number})",
            url=locked.get_absolute_url(),
            key=f"document-review:{locked.pk}",
        )
    return locked


def document_review(*, actor, revision: DocumentRevision, approve: bool, note: str = "") -> DocumentRevision:
    """Approve a revision in review (it becomes the document's current text) or send it back with a note."""
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": "Say what must change before it can be approved."})
    with transaction.atomic():
        locked = _lock(revision)
        document = ComplianceDocument.objects.select_for_update().get(pk=locked.document_id)
        feature = document.feature
        if not can_review_document(actor, feature):
            raise PermissionDenied("Only legal reviewers and governance sign a compliance document off.")
        if locked.author_id == actor.pk:
            raise PermissionDenied("Separation of duties: the author of a revision cannot sign it off.")
        if locked.status != RevisionStatus.IN_REVIEW:
            raise Conflict(f"Revision {locked.number} is {locked.get_status_display().lower()}, not in review.")
        if locked.sha256 != locked.digest():  # the text changed since it was sent: refuse to sign it
            raise Conflict(f"Revision {locked.number} no longer matches what was sent for review.")
        now = timezone.now()
        locked.status = RevisionStatus.APPROVED if approve else RevisionStatus.REJECTED
        locked.reviewed_by = actor
        locked.reviewed_at = now
        locked.review_note = note
        locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
        replaced = None
        if approve:
            if document.current_id:
                replaced = document.current.number
                DocumentRevision.objects.filter(pk=document.current_id).update(status=RevisionStatus.SUPERSEDED)
            document.current = locked
            document.save(update_fields=["current"])
            locked.document = document
            # The technical file may be complete now: gate requests waiting on it are looked at again.
            feature_updated.send(sender=ComplianceDocument, feature=feature, actor=actor)
        audit_record(
            actor=actor,
            action="compliance.document_approved" if approve else "compliance.document_sent_back",
            target=locked,
            feature=feature,
            payload=_payload(locked, sha256=locked.sha256, note=note, replaced_revision=replaced),
        )
        notify(
            users=[locked.author],
            subject=(
                f"{document.get_kind_display()} of {feature.name} r{locked.number} "
                + ("approved" if approve else "sent back")
            ),
            body=note,
            url=locked.get_absolute_url(),
            key=f"document-reviewed:{locked.pk}",
        )
    return locked
