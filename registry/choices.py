"""Enumerations of the registry. Every status, tier and kind the app knows lives here."""

from django.db import models


class Role(models.TextChoices):
    """Fixed roles. Each is a Django group made by a data migration."""

    PRODUCT = "product", "Product owner"
    ML = "ml", "ML engineer"
    SECURITY = "security", "Security reviewer"
    LEGAL = "legal", "Legal reviewer"
    SUPPORT = "support", "Support"
    GOVERNANCE = "governance", "Governance admin"
    AUDITOR = "auditor", "Auditor"


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    REGULATED = "regulated", "Regulated"


class FeatureStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    RETIRED = "retired", "Retired"


FEATURE_TRANSITIONS: dict[str, set[str]] = {
    FeatureStatus.PROPOSED: {FeatureStatus.ACTIVE, FeatureStatus.RETIRED},
    FeatureStatus.ACTIVE: {FeatureStatus.PAUSED, FeatureStatus.RETIRED},
    FeatureStatus.PAUSED: {FeatureStatus.ACTIVE, FeatureStatus.RETIRED},
    FeatureStatus.RETIRED: set(),
}


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETIRED = "retired", "Retired"


VERSION_TRANSITIONS: dict[str, set[str]] = {
    VersionStatus.DRAFT: {VersionStatus.SUBMITTED},
    VersionStatus.SUBMITTED: {VersionStatus.RETIRED},
    VersionStatus.RETIRED: set(),
}


class VendorStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    UNDER_REVIEW = "under_review", "Under review"
    SUSPENDED = "suspended", "Suspended"


class ModelStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    DEPRECATED = "deprecated", "Deprecated"
    SUSPENDED = "suspended", "Suspended"


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    MULTIMODAL = "multimodal", "Text and images"
    EMBEDDING = "embedding", "Embedding"
    SPEECH = "speech", "Speech"


class DataClassification(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    PERSONAL = "personal", "Personal data"
    SPECIAL = "special", "Special-category personal data"


class DatasetUsage(models.TextChoices):
    TRAINING = "training", "Training"
    EVALUATION = "evaluation", "Evaluation"
    RETRIEVAL = "retrieval", "Retrieval"


class EvaluationKind(models.TextChoices):
    BENCHMARK = "benchmark", "Benchmark"
    SAFETY = "safety", "Safety"
    RED_TEAM = "red_team", "Red team"
    PRIVACY_REVIEW = "privacy_review", "Privacy review"
    REGIONAL_LANGUAGE = "regional_language", "Regional language"
    BIAS = "bias", "Bias"
    LOAD_TEST = "load_test", "Load test"


class Environment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    PRODUCTION = "production", "Production"


class DeploymentEventKind(models.TextChoices):
    PROMOTED = "promoted", "Promoted"
    ROLLED_BACK = "rolled_back", "Rolled back"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ChangeRequestStatus(models.TextChoices):
    """A feature change that weakens governance waits for governance: pending, then approved or rejected."""

    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


# Lowest first: a change to an earlier tier lowers the risk tier.
RISK_TIER_ORDER = (RiskTier.LOW, RiskTier.MEDIUM, RiskTier.HIGH, RiskTier.REGULATED)


class MembershipSource(models.TextChoices):
    """Where a role or team membership comes from. A person may hold one through several sources; they
    leave the group only when no source holds them there any more."""

    MANUAL = "manual", "Granted in Gatehouse"
    IDP = "idp", "Identity provider mapping"
    SCIM = "scim", "SCIM provisioning"
