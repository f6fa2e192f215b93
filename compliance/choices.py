"""The regulation's vocabulary, in Gatehouse's own words (EU AI Act article numbers cited only)."""

from django.db import models


class Category(models.TextChoices):
    UNDETERMINED = "undetermined", "Not yet assessed"
    PROHIBITED = "prohibited", "Prohibited practice (Art. 5)"
    HIGH_RISK = "high_risk", "High-risk (Art. 6)"
    LIMITED = "limited", "Limited risk: transparency duties (Art. 50)"
    MINIMAL = "minimal", "Minimal risk"


class HighRiskBasis(models.TextChoices):
    ANNEX_III = "annex_iii", "A use listed in Annex III"
    ANNEX_I = "annex_i", "A safety component of a product under Annex I law"


class AnnexIIIArea(models.TextChoices):
    BIOMETRICS = "1", "1. Biometrics"
    CRITICAL_INFRASTRUCTURE = "2", "2. Critical infrastructure"
    EDUCATION = "3", "3. Education and vocational training"
    EMPLOYMENT = "4", "4. Employment and workers management"
    ESSENTIAL_SERVICES = "5", "5. Access to essential private and public services"
    LAW_ENFORCEMENT = "6", "6. Law enforcement"
    MIGRATION = "7", "7. Migration, asylum and border control"
    JUSTICE = "8", "8. Administration of justice and democratic processes"


class TransparencyDuty(models.TextChoices):
    INTERACTION = "interaction", "People are told they are interacting with an AI system"
    SYNTHETIC = "synthetic", "Generated audio, images, video or text are marked as such"
    EMOTION_BIOMETRIC = (
        "emotion_biometric",
        "People exposed to emotion recognition or biometric categorisation are told",
    )
    DEEP_FAKE = "deep_fake", "Deep fakes and generated public-interest text are disclosed"


class Role(models.TextChoices):
    PROVIDER = "provider", "Provider"
    DEPLOYER = "deployer", "Deployer"
    BOTH = "both", "Provider and deployer"


class ProfileStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed by governance"


class DocumentKind(models.TextChoices):
    RISK_MANAGEMENT = "risk_management", "Risk management summary"
    HUMAN_OVERSIGHT = "human_oversight", "Human oversight measures"
    STANDARDS = "standards", "Standards and specifications applied"
    DECLARATION = "declaration", "EU declaration of conformity"
    TRANSPARENCY = "transparency", "Transparency information for people"
    POST_MARKET = "post_market", "Post-market monitoring plan"


class RevisionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Sent back"
    SUPERSEDED = "superseded", "Superseded"


# Which documents each category needs before production (what the registry does not hold).
REQUIRED_DOCUMENTS: dict[str, list[str]] = {
    Category.HIGH_RISK: [
        DocumentKind.RISK_MANAGEMENT,
        DocumentKind.HUMAN_OVERSIGHT,
        DocumentKind.STANDARDS,
        DocumentKind.DECLARATION,
        DocumentKind.POST_MARKET,
    ],
    Category.LIMITED: [DocumentKind.TRANSPARENCY],
}

# How long a technical file and its documents are kept after the feature leaves the market (Art. 18).
DEFAULT_RETENTION_YEARS = 10
