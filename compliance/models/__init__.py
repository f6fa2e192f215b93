from compliance.models.documents import ComplianceDocument, DocumentRevision
from compliance.models.profile import RegulatoryProfile

__all__ = ["ComplianceDocument", "DocumentRevision", "RegulatoryProfile"]
