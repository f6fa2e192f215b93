from compliance.models.documents import ComplianceDocument, DocumentRevision
from compliance.models.profile import RegulatoryProfile
from compliance.models.standards import (
    Applicability,
    ControlStatement,
    Implementation,
    RmfSubcategory,
    StandardEvidence,
)

__all__ = [
    "Applicability",
    "ComplianceDocument",
    "ControlStatement",
    "DocumentRevision",
    "Implementation",
    "RegulatoryProfile",
    "RmfSubcategory",
    "StandardEvidence",
]
