"""A feature's place under the EU AI Act: proposed by its owners, confirmed by governance."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from compliance.choices import (
    DEFAULT_RETENTION_YEARS,
    REQUIRED_DOCUMENTS,
    AnnexIIIArea,
    Category,
    HighRiskBasis,
    ProfileStatus,
    Role,
)


class RegulatoryProfile(models.Model):
    """One per feature. Only a confirmed profile decides anything: which documents the technical file needs,
    whether production waits for a complete file, whether the feature may be promoted at all."""

    feature = models.OneToOneField("registry.AIFeature", on_delete=models.CASCADE, related_name="regulatory_profile")
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.UNDETERMINED)
    high_risk_basis = models.CharField(max_length=20, choices=HighRiskBasis.choices, blank=True)
    annex_iii_area = models.CharField("Annex III area", max_length=2, choices=AnnexIIIArea.choices, blank=True)
    annex_i_product = models.CharField(
        "Annex I product",
        max_length=200,
        blank=True,
        help_text="The product law the feature is a safety component under.",
    )
    transparency_duties = models.JSONField(default=list, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PROVIDER)
    markets = models.ManyToManyField("registry.Region", related_name="+", blank=True)
    rationale = models.TextField(help_text="Why this category: the use, who is affected, what it decides.")
    conformity_reference = models.CharField(
        max_length=200, blank=True, help_text="The declaration of conformity's reference, once issued."
    )
    retention_years = models.PositiveSmallIntegerField(default=DEFAULT_RETENTION_YEARS)
    status = models.CharField(max_length=20, choices=ProfileStatus.choices, default=ProfileStatus.PROPOSED)
    confirmed_category = models.CharField(
        max_length=20,
        choices=Category.choices,
        blank=True,
        help_text="The category governance last confirmed: the one whose rules apply while a change waits.",
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(retention_years__gte=10),
                name="regulatoryprofile_retention_ten_years",
                violation_error_message="Technical files are kept for at least ten years.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug}: {self.get_category_display()}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:profile", args=[self.feature.slug])

    @property
    def confirmed(self) -> bool:
        return self.status == ProfileStatus.CONFIRMED

    @property
    def in_force(self) -> str:
        """The category whose rules apply: the last one governance confirmed (a proposal waiting for
        confirmation changes nothing yet, so lowering a category cannot skip a rule)."""
        return self.confirmed_category or Category.UNDETERMINED

    @property
    def is_high_risk(self) -> bool:
        return self.in_force == Category.HIGH_RISK

    @property
    def is_prohibited(self) -> bool:
        return self.in_force == Category.PROHIBITED

    @property
    def required_documents(self) -> list[str]:
        return list(REQUIRED_DOCUMENTS.get(self.in_force, []))
