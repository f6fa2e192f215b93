from .audit import AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerificationRun
from .catalog import CatalogModel, Dataset, PolicyPack, PromptVersion, Region, Vendor
from .deployments import Deployment, DeploymentEvent
from .features import (
    AIFeature,
    AIFeatureGroupObjectPermission,
    AIFeatureUserObjectPermission,
    FeatureChangeRequest,
    ReviewerGrant,
)
from .notifications import Notification
from .people import Membership, PersonSettings, UserSession
from .reads import ReadRecord
from .teams import Team
from .tokens import ApiToken, TokenScope
from .versions import Evaluation, FeatureVersion, VersionDataset, VersionFallback

__all__ = [
    "AIFeature",
    "AIFeatureGroupObjectPermission",
    "AIFeatureUserObjectPermission",
    "ApiToken",
    "TokenScope",
    "AuditChainHead",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditVerificationRun",
    "CatalogModel",
    "Dataset",
    "Deployment",
    "DeploymentEvent",
    "Evaluation",
    "FeatureChangeRequest",
    "FeatureVersion",
    "Membership",
    "Notification",
    "PersonSettings",
    "PolicyPack",
    "PromptVersion",
    "ReadRecord",
    "Region",
    "ReviewerGrant",
    "Team",
    "UserSession",
    "Vendor",
    "VersionDataset",
    "VersionFallback",
]
