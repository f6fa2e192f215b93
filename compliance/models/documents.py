"""Short, versioned documents attached to a feature for what the registry does not hold (the risk
management summary, human oversight, standards applied, the declaration of conformity).

A revision is written, sent for review and approved or sent back by someone else with the legal or
governance role (separation of duties). Once sent it never changes: a change is a new revision. The
approved revision is the document's current text; the one it replaces becomes superseded.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.urls import reverse

from compliance.choices import DocumentKind, RevisionStatus


class ComplianceDocument(models.Model):
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.CASCADE, related_name="compliance_documents")
    kind = models.CharField(max_length=30, choices=DocumentKind.choices)
    current = models.ForeignKey(
        "compliance.DocumentRevision", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["feature_id", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["feature", "kind"], name="compliancedocument_one_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.feature.slug}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:document", args=[self.feature.slug, self.kind])


class DocumentRevision(models.Model):
    document = models.ForeignKey(ComplianceDocument, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    status = models.CharField(max_length=20, choices=RevisionStatus.choices, default=RevisionStatus.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["document_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="documentrevision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.document} r{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("compliance:revision", args=[self.document.feature.slug, self.document.kind, self.number])

    def digest(self) -> str:
        return hashlib.sha256(self.body.encode("utf-8")).hexdigest()
