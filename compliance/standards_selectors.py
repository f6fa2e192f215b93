"""Reading the Statement of Applicability and the NIST AI RMF crosswalk, as one reader may see them.

Every catalogue entry is a row here whether or not governance has decided anything about it yet (an entry
without a stored decision reads as undecided, and a subcategory without one maps as the catalogue starts).
Evidence is read once for all the entries asked, filtered to what the reader may see (``compliance.evidence``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compliance.evidence import evidence_for
from compliance.models import Applicability, ControlStatement, Implementation, RmfSubcategory, StandardEvidence
from compliance.standards import (
    ISO_CLAUSES,
    ISO_CONTROLS,
    NIST_FUNCTIONS,
    NIST_SUBCATEGORIES,
    Control,
    Subcategory,
    subcategory_from_key,
    subcategory_key,
)


@dataclass
class ControlRow:
    control: Control
    statement: ControlStatement
    evidence: list[StandardEvidence] = field(default_factory=list)
    subcategories: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.control.id

    @property
    def clause_title(self) -> str:
        return ISO_CLAUSES[self.control.clause]

    @property
    def subcategory_links(self) -> list[tuple[str, str, str]]:
        """``(id, URL key, topic)`` of each NIST AI RMF subcategory mapped to this control."""
        return [(sub_id, subcategory_key(sub_id), SUBCATEGORY_TOPICS[sub_id]) for sub_id in self.subcategories]


@dataclass
class SubcategoryRow:
    subcategory: Subcategory
    decision: RmfSubcategory
    evidence: list[StandardEvidence] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.subcategory.id

    @property
    def key(self) -> str:
        return subcategory_key(self.subcategory.id)

    @property
    def controls(self) -> list[str]:
        return list(self.decision.controls)

    @property
    def control_links(self) -> list[tuple[str, str]]:
        """``(id, topic)`` of each Annex A control this subcategory maps to."""
        return [(control_id, CONTROL_TOPICS.get(control_id, "")) for control_id in self.controls]

    @property
    def function_title(self) -> str:
        return NIST_FUNCTIONS[self.subcategory.function]


SUBCATEGORY_TOPICS = {sub.id: sub.topic for sub in NIST_SUBCATEGORIES}
CONTROL_TOPICS = {control.id: control.topic for control in ISO_CONTROLS}


def _statements(control_ids) -> dict[str, ControlStatement]:
    stored = ControlStatement.objects.filter(control_id__in=list(control_ids)).select_related("owner", "updated_by")
    return {statement.control_id: statement for statement in stored}


def _decisions(subcategory_ids) -> dict[str, RmfSubcategory]:
    stored = RmfSubcategory.objects.filter(subcategory_id__in=list(subcategory_ids)).select_related(
        "owner", "updated_by"
    )
    return {decision.subcategory_id: decision for decision in stored}


def _decision_or_default(sub: Subcategory, stored: dict[str, RmfSubcategory]) -> RmfSubcategory:
    return stored.get(sub.id) or RmfSubcategory(subcategory_id=sub.id, controls=list(sub.controls))


def control_rows(
    user, *, query: str = "", applicability: str = "", implementation: str = "", clause: str = "", only: str = ""
) -> list[ControlRow]:
    """The Statement of Applicability, in Annex A order, filtered as asked (``only``: one control)."""
    statements = _statements(control.id for control in ISO_CONTROLS)
    decisions = _decisions(sub.id for sub in NIST_SUBCATEGORIES)
    mapped: dict[str, list[str]] = {}
    for sub in NIST_SUBCATEGORIES:
        for control_id in _decision_or_default(sub, decisions).controls:
            mapped.setdefault(control_id, []).append(sub.id)
    rows = [
        ControlRow(
            control=control,
            statement=statements.get(control.id) or ControlStatement(control_id=control.id),
            subcategories=mapped.get(control.id, []),
        )
        for control in ISO_CONTROLS
    ]
    needle = query.strip().lower()
    if needle:
        rows = [
            row
            for row in rows
            if needle in row.id.lower()
            or needle in row.control.topic.lower()
            or needle in row.statement.justification.lower()
        ]
    if applicability in Applicability.values:
        rows = [row for row in rows if row.statement.applicability == applicability]
    if implementation in Implementation.values:
        rows = [row for row in rows if row.statement.implementation == implementation]
    if clause in ISO_CLAUSES:
        rows = [row for row in rows if row.control.clause == clause]
    if only:
        rows = [row for row in rows if row.id == only]
    links = evidence_for(user, [row.id for row in rows])
    for row in rows:
        row.evidence = links.get(row.id, [])
    return rows


def control_row(user, control_id: str) -> ControlRow | None:
    found = control_rows(user, only=control_id)
    return found[0] if found else None


def subcategory_rows(
    user, *, query: str = "", function: str = "", implementation: str = "", only: str = ""
) -> list[SubcategoryRow]:
    """The NIST AI RMF crosswalk, each subcategory with the evidence of the controls it maps to."""
    decisions = _decisions(sub.id for sub in NIST_SUBCATEGORIES)
    rows = [
        SubcategoryRow(subcategory=sub, decision=_decision_or_default(sub, decisions)) for sub in NIST_SUBCATEGORIES
    ]
    needle = query.strip().lower()
    if needle:
        rows = [
            row
            for row in rows
            if needle in row.id.lower()
            or needle in row.subcategory.topic.lower()
            or needle in row.decision.notes.lower()
        ]
    if function in NIST_FUNCTIONS:
        rows = [row for row in rows if row.subcategory.function == function]
    if implementation in Implementation.values:
        rows = [row for row in rows if row.decision.implementation == implementation]
    if only:
        rows = [row for row in rows if row.id == only]
    links = evidence_for(user, {control_id for row in rows for control_id in row.controls})
    for row in rows:
        seen: set[tuple[str, str]] = set()
        for control_id in row.controls:
            for link in links.get(control_id, []):
                if (link.object_type, link.object_id) not in seen:
                    seen.add((link.object_type, link.object_id))
                    row.evidence.append(link)
    return rows


def subcategory_row(user, key: str) -> SubcategoryRow | None:
    wanted = subcategory_from_key(key)
    found = subcategory_rows(user, only=wanted) if wanted else []
    return found[0] if found else None


def summary(rows: list[ControlRow]) -> dict:
    """Counts for the page's head: how many controls apply, are excluded, undecided, in place, evidenced."""
    return {
        "total": len(rows),
        "applicable": sum(1 for row in rows if row.statement.applicability == Applicability.APPLICABLE),
        "excluded": sum(1 for row in rows if row.statement.applicability == Applicability.EXCLUDED),
        "undecided": sum(1 for row in rows if row.statement.applicability == Applicability.UNDECIDED),
        "implemented": sum(1 for row in rows if row.statement.implementation == Implementation.IMPLEMENTED),
        "evidenced": sum(1 for row in rows if row.evidence),
    }
