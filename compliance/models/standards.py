"""ISO/IEC 42001's Statement of Applicability and the NIST AI RMF crosswalk onto the same evidence.

The catalogue is code (``compliance.standards``); a row holds governance's decisions about one entry and is
made on its first edit, so an entry without a row reads as undecided (``compliance.selectors``). Evidence is a link to a Gatehouse record (``StandardEvidence``):
a feature, a version, a gate policy, an approval request, an incident, a monitoring plan, a signed-off
document, an evidence pack, a drill. A subcategory shows the evidence of the controls it maps to, so one
set of links answers both. Governance edits both; every change is audited (``compliance.services.standards``).
"""

from django.conf import settings
from django.db import models
from django.urls import reverse

from compliance.standards import subcategory_key


class Applicability(models.TextChoices):
    UNDECIDED = "undecided", "Not decided yet"
    APPLICABLE = "applicable", "Applicable"
    EXCLUDED = "excluded", "Not applicable"


class Implementation(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    PLANNED = "planned", "Planned"
    PARTIAL = "partial", "Partly in place"
    IMPLEMENTED = "implemented", "In place"


class ControlStatement(models.Model):
    control_id = models.CharField(max_length=12, unique=True)
    applicability = models.CharField(max_length=12, choices=Applicability.choices, default=Applicability.UNDECIDED)
    implementation = models.CharField(max_length=12, choices=Implementation.choices, default=Implementation.NOT_STARTED)
    justification = models.TextField(blank=True, help_text="Why the control applies or not, and how it is met.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.control_id

    def get_absolute_url(self) -> str:
        return reverse("compliance:control", args=[self.control_id])


class RmfSubcategory(models.Model):
    subcategory_id = models.CharField(max_length=16, unique=True)
    controls = models.JSONField(default=list, blank=True, help_text="The Annex A controls whose evidence shows it.")
    implementation = models.CharField(max_length=12, choices=Implementation.choices, default=Implementation.NOT_STARTED)
    notes = models.TextField(blank=True, help_text="How Gatehouse's records show this outcome, in a few lines.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "NIST AI RMF subcategory"
        verbose_name_plural = "NIST AI RMF subcategories"

    def __str__(self) -> str:
        return self.subcategory_id

    def get_absolute_url(self) -> str:
        return reverse("compliance:subcategory", args=[self.key])

    @property
    def key(self) -> str:
        return subcategory_key(self.subcategory_id)


class StandardEvidence(models.Model):
    """A Gatehouse record that shows a control is met, named as the audit trail names objects
    (``object_type``, ``object_id``) so the trail's visibility-aware links say who may follow it."""

    control_id = models.CharField(max_length=12, db_index=True)
    object_type = models.CharField(max_length=40)
    object_id = models.CharField(max_length=64)
    label = models.CharField(max_length=300)
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField()

    class Meta:
        ordering = ["control_id", "added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["control_id", "object_type", "object_id"], name="standardevidence_once_per_control"
            ),
        ]

    def __str__(self) -> str:
        return self.label
