"""The write path of the Statement of Applicability and the NIST AI RMF crosswalk: governance only, each
change locked, checked and audited with what it was and what it became.

A control that applies names an owner and says why; one that does not apply says why not (ISO/IEC 42001
asks a justification for both) and is never marked as in place. Evidence is a record found through
``compliance.evidence.resolve_evidence`` among those the admin may see; its audit event carries the
record's feature, so who may not see the feature never sees the event either.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.evidence import resolve_evidence
from compliance.models import Applicability, ControlStatement, Implementation, RmfSubcategory, StandardEvidence
from compliance.standards import CONTROL_IDS, NIST_SUBCATEGORIES, SUBCATEGORY_IDS, control_sort_key
from registry.permissions import is_governance
from registry.services import audit_record

GOVERNANCE_ONLY = "Only governance admins edit the Statement of Applicability and the NIST AI RMF crosswalk."


def _require_governance(actor) -> None:
    if not is_governance(actor):
        raise PermissionDenied(GOVERNANCE_ONLY)


def _owner(owner, errors: dict, *, required: bool):
    if owner is None:
        if required:
            errors["owner"] = "An applicable control has an owner: choose who answers for it."
        return None
    if not isinstance(owner, get_user_model()) or not owner.is_active:
        errors["owner"] = "Choose an active person as the owner."
    return owner


def _control_snapshot(statement: ControlStatement) -> dict:
    return {
        "applicability": statement.applicability,
        "implementation": statement.implementation,
        "justification": statement.justification,
        "owner": statement.owner.get_username() if statement.owner_id else None,
    }


def _changes(before: dict, after: dict) -> dict:
    return {name: [before[name], after[name]] for name in after if before.get(name) != after[name]}


def _locked_statement(control_id: str) -> ControlStatement:
    if control_id not in CONTROL_IDS:
        raise ValidationError({"control": f"{control_id} is not an ISO/IEC 42001 Annex A control."})
    ControlStatement.objects.get_or_create(control_id=control_id)
    return ControlStatement.objects.select_for_update(of=("self",)).select_related("owner").get(control_id=control_id)


def control_update(
    *, actor, control_id: str, applicability: str, implementation: str, justification: str, owner=None
) -> ControlStatement:
    """Record governance's decision on one Annex A control."""
    _require_governance(actor)
    errors: dict[str, str] = {}
    if applicability not in Applicability.values:
        errors["applicability"] = f"Choose one of: {', '.join(Applicability.values)}."
    if implementation not in Implementation.values:
        errors["implementation"] = f"Choose one of: {', '.join(Implementation.values)}."
    justification = (justification or "").strip()
    if applicability in (Applicability.APPLICABLE, Applicability.EXCLUDED) and not justification:
        errors["justification"] = (
            "Say why it applies and how it is met."
            if applicability == Applicability.APPLICABLE
            else "Say why it does not apply: an auditor asks for the reason of every exclusion."
        )
    if applicability == Applicability.EXCLUDED and implementation not in (Implementation.NOT_STARTED, None):
        errors["implementation"] = "A control that does not apply is not put in place: leave it Not started."
    owner = _owner(owner, errors, required=applicability == Applicability.APPLICABLE)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        statement = _locked_statement(control_id)
        before = _control_snapshot(statement)
        statement.applicability = applicability
        statement.implementation = implementation
        statement.justification = justification
        statement.owner = owner
        after = _control_snapshot(statement)
        changes = _changes(before, after)
        if not changes:
            return statement
        statement.updated_by = actor
        statement.updated_at = timezone.now()
        statement.save()
        audit_record(
            actor=actor,
            action="compliance.control_updated",
            target=statement,
            payload={"control": control_id, "changes": changes},
        )
    return statement


def evidence_link(*, actor, control_id: str, reference: str) -> StandardEvidence:
    """Link the record whose page ``reference`` addresses to ``control_id`` as evidence."""
    _require_governance(actor)
    found = resolve_evidence(actor, reference)
    with transaction.atomic():
        statement = _locked_statement(control_id)
        if StandardEvidence.objects.filter(
            control_id=control_id, object_type=found.object_type, object_id=found.object_id
        ).exists():
            raise ValidationError({"reference": f"{found.label} is already evidence for {control_id}."})
        link = StandardEvidence.objects.create(
            control_id=control_id,
            object_type=found.object_type,
            object_id=found.object_id,
            label=found.label[:300],
            feature=found.feature,
            added_by=actor,
            added_at=timezone.now(),
        )
        _audit_link(actor, "compliance.control_evidence_linked", link, statement)
    return link


def _audit_link(actor, action: str, link: StandardEvidence, statement: ControlStatement) -> None:
    audit_record(
        actor=actor,
        action=action,
        target=statement,
        feature=link.feature,
        payload={
            "control": link.control_id,
            "object_type": link.object_type,
            "object_id": link.object_id,
            "label": link.label,
        },
    )


def evidence_unlink(*, actor, link: StandardEvidence) -> None:
    """Remove one evidence link (the record itself is untouched)."""
    _require_governance(actor)
    with transaction.atomic():
        statement = _locked_statement(link.control_id)
        removed = StandardEvidence.objects.filter(pk=link.pk).select_for_update().first()
        if removed is None:
            return
        removed.delete()
        _audit_link(actor, "compliance.control_evidence_unlinked", link, statement)


def _subcategory_snapshot(decision: RmfSubcategory) -> dict:
    return {
        "controls": list(decision.controls),
        "implementation": decision.implementation,
        "notes": decision.notes,
        "owner": decision.owner.get_username() if decision.owner_id else None,
    }


def subcategory_update(
    *, actor, subcategory_id: str, controls, implementation: str, notes: str, owner=None
) -> RmfSubcategory:
    """Record governance's decision on one NIST AI RMF subcategory: the Annex A controls whose evidence shows
    it, how far it is in place, a note and an owner."""
    _require_governance(actor)
    if subcategory_id not in SUBCATEGORY_IDS:
        raise ValidationError({"subcategory": f"{subcategory_id} is not a NIST AI RMF subcategory."})
    errors: dict[str, str] = {}
    asked = set(controls or [])
    unknown = sorted(control_id for control_id in asked if control_id not in CONTROL_IDS)
    chosen = sorted(asked & CONTROL_IDS, key=control_sort_key)
    if unknown:
        errors["controls"] = f"Not Annex A controls: {', '.join(unknown)}."
    if implementation not in Implementation.values:
        errors["implementation"] = f"Choose one of: {', '.join(Implementation.values)}."
    notes = (notes or "").strip()
    if implementation in (Implementation.PARTIAL, Implementation.IMPLEMENTED) and not asked and not notes:
        errors["notes"] = "Say how it is met, or map it to the controls whose evidence shows it."
    owner = _owner(owner, errors, required=False)
    if errors:
        raise ValidationError(errors)
    default = next(sub.controls for sub in NIST_SUBCATEGORIES if sub.id == subcategory_id)
    with transaction.atomic():
        RmfSubcategory.objects.get_or_create(subcategory_id=subcategory_id, defaults={"controls": list(default)})
        decision = (
            RmfSubcategory.objects.select_for_update(of=("self",))
            .select_related("owner")
            .get(subcategory_id=subcategory_id)
        )
        before = _subcategory_snapshot(decision)
        decision.controls = chosen
        decision.implementation = implementation
        decision.notes = notes
        decision.owner = owner
        changes = _changes(before, _subcategory_snapshot(decision))
        if not changes:
            return decision
        decision.updated_by = actor
        decision.updated_at = timezone.now()
        decision.save()
        audit_record(
            actor=actor,
            action="compliance.rmf_updated",
            target=decision,
            payload={"subcategory": subcategory_id, "changes": changes},
        )
    return decision


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    content_type: str
    sha256: str


def statement_export(*, actor, file_format: str) -> Export:
    """The Statement of Applicability with the crosswalk, as ``actor`` may see it, in CSV, JSON or PDF; each
    export is audited with the file's SHA-256 so an auditor can tell the copy they hold is the one made."""
    from compliance import soa_export

    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied("Sign in to export the Statement of Applicability.")
    if file_format not in soa_export.CONTENT_TYPES:
        raise ValidationError({"format": f"Choose one of: {', '.join(soa_export.CONTENT_TYPES)}."})
    data = soa_export.render(actor, file_format)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="compliance.soa_exported",
            object_type="statementofapplicability",
            object_id="iso-42001",
            payload={"format": file_format, "sha256": digest, "size": len(data)},
        )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    return Export(
        data=data,
        filename=f"statement-of-applicability-{stamp}.{file_format}",
        content_type=soa_export.CONTENT_TYPES[file_format],
        sha256=digest,
    )
