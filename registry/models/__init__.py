from .audit import AuditChainHead, AuditEvent
from .catalog import CatalogModel, Dataset, PolicyPack, PromptVersion, Region, Vendor
from .features import AIFeature, AIFeatureGroupObjectPermission, AIFeatureUserObjectPermission
from .teams import Team
from .tokens import ApiToken
from .versions import Evaluation, FeatureVersion, VersionDataset, VersionFallback

__all__ = [
    "AIFeature",
    "AIFeatureGroupObjectPermission",
    "AIFeatureUserObjectPermission",
    "ApiToken",
    "AuditChainHead",
    "AuditEvent",
    "CatalogModel",
    "Dataset",
    "Evaluation",
    "FeatureVersion",
    "PolicyPack",
    "PromptVersion",
    "Region",
    "Team",
    "Vendor",
    "VersionDataset",
    "VersionFallback",
]
