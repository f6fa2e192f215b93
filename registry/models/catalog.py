"""The catalog: what a feature version may pin. Regions, vendors, models, prompts, policies, datasets."""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse

from registry.choices import DataClassification, Modality, ModelStatus, VendorStatus


class Region(models.Model):
    """A serving or hosting region, e.g. ``eu``. Reference data: added by a data migration."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Vendor(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120, unique=True)
    status = models.CharField(max_length=20, choices=VendorStatus.choices, default=VendorStatus.UNDER_REVIEW)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:vendor_detail", args=[self.slug])


class CatalogModel(models.Model):
    """A model a vendor offers, as catalogued: where it is hosted and whether it may be used."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="models")
    identifier = models.CharField(max_length=120, help_text="The vendor's model identifier, e.g. claude-sonnet-4.")
    display_name = models.CharField(max_length=120, blank=True)
    regions = models.ManyToManyField(Region, related_name="hosted_models", blank=True)
    context_window = models.PositiveIntegerField(help_text="Tokens.")
    modality = models.CharField(max_length=20, choices=Modality.choices, default=Modality.TEXT)
    status = models.CharField(max_length=20, choices=ModelStatus.choices, default=ModelStatus.APPROVED)
    deprecation_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["vendor__name", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "identifier"],
                name="catalogmodel_unique_identifier_per_vendor",
                violation_error_message="This vendor already has a model with that identifier.",
            )
        ]

    def __str__(self) -> str:
        return self.identifier

    def get_absolute_url(self) -> str:
        return reverse("registry:model_detail", args=[self.pk])


class NamedVersion(models.Model):
    """A catalog entry numbered per name (``triage@7``): the pair is unique and numbers start at 1."""

    name = models.SlugField(max_length=80)
    version = models.PositiveIntegerField()

    class Meta:
        abstract = True
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="%(class)s_unique_name_version",
                violation_error_message="An entry with this name and version already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1),
                name="%(class)s_version_positive",
                violation_error_message="Versions start at 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


class PromptVersion(NamedVersion):
    """One version of a named prompt template. The text never changes; a change is a new version."""

    template = models.TextField()
    content_hash = models.CharField(max_length=64, editable=False)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def get_absolute_url(self) -> str:
        return reverse("registry:prompt_detail", args=[self.pk])

    @staticmethod
    def hash_template(template: str) -> str:
        return hashlib.sha256(template.encode("utf-8")).hexdigest()


class PolicyPack(NamedVersion):
    """A versioned bundle of rules a feature version runs under: residency, safety, tools, data."""

    description = models.TextField(blank=True)
    allowed_regions = models.ManyToManyField(
        Region, related_name="policy_packs", help_text="Data residency: regions where data may be processed."
    )
    safety_requirements = models.JSONField(default=list, blank=True, help_text="Safety rules that apply, one per line.")
    allowed_tools = models.JSONField(
        default=list,
        blank=True,
        help_text='Tools the feature may call and how each is authorised, e.g. [{"tool": "crm.lookup", "authorisation": "user-delegated"}].',
    )
    data_classifications = models.JSONField(default=list, blank=True, help_text="Data classifications allowed.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def get_absolute_url(self) -> str:
        return reverse("registry:policy_detail", args=[self.pk])


class Dataset(models.Model):
    name = models.SlugField(max_length=80)
    version = models.CharField(max_length=40)
    uri = models.CharField(max_length=500, help_text="Where the data lives, e.g. s3://bucket/path.")
    classification = models.CharField(max_length=20, choices=DataClassification.choices)
    owner = models.ForeignKey("registry.Team", on_delete=models.PROTECT, related_name="datasets")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="dataset_unique_name_version",
                violation_error_message="A dataset with this name and version already exists.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"

    def get_absolute_url(self) -> str:
        return reverse("registry:dataset_detail", args=[self.pk])
