"""Evidence pack exports: who asked for which pack in which format, how far its build is, and the file."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from packs.choices import FINISHED_STATUSES, ExportStatus, PackFormat, PackKind


def pack_upload_to(export: "PackExport", filename: str) -> str:
    return f"evidence-packs/{export.created_at:%Y/%m}/{filename}"


class PackExport(models.Model):
    """One request for an evidence pack, of a feature (all its versions) or of one version.

    Built by a Celery task (``packs.tasks.build_evidence_pack``); the page polls its progress. The file is
    kept in the default storage (``MEDIA_ROOT``), which the web processes and the workers must share.
    """

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="pack_exports")
    version = models.ForeignKey(
        "registry.FeatureVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pack_exports",
        help_text="Empty: the pack covers the feature and every version of it.",
    )
    kind = models.CharField(max_length=20, choices=PackKind.choices, default=PackKind.EVIDENCE)
    format = models.CharField(max_length=10, choices=PackFormat.choices)
    retain_until = models.DateField(
        null=True,
        blank=True,
        help_text="A technical file is kept at least until then (its regulatory profile's retention period).",
    )
    status = models.CharField(max_length=20, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    step = models.CharField(max_length=120, blank=True, help_text="What the build is doing now.")
    error = models.TextField(blank=True)
    file = models.FileField(upload_to=pack_upload_to, blank=True, max_length=300)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["requested_by", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100),
                name="packexport_progress_percent",
                violation_error_message="Progress is a percentage.",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ExportStatus.READY) | (~models.Q(file="") & ~models.Q(sha256="")),
                name="packexport_ready_has_file",
                violation_error_message="A ready pack carries its file and its SHA-256.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}: {self.subject} ({self.format})"

    def get_absolute_url(self) -> str:
        return reverse("packs:export_detail", args=[self.pk])

    @property
    def subject(self) -> str:
        """What the pack covers, e.g. ``kyc-document-check v2`` or ``kyc-document-check (all versions)``."""
        if self.version_id:
            return f"{self.feature.slug} v{self.version.number}"
        if self.kind == PackKind.TECHNICAL_FILE:
            return f"{self.feature.slug} (the version live in production, else the newest)"
        return f"{self.feature.slug} (all versions)"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def download_name(self) -> str:
        if self.kind == PackKind.TECHNICAL_FILE:
            scope = f"v{self.version.number}" if self.version_id else "current"
            return f"technical-file-{self.feature.slug}-{scope}-{self.pk}.{self.format}"
        scope = f"v{self.version.number}" if self.version_id else "all-versions"
        return f"evidence-pack-{self.feature.slug}-{scope}-{self.pk}.{self.format}"

    @property
    def kind_phrase(self) -> str:
        """In a sentence: ``evidence pack`` or ``technical file``."""
        return "technical file" if self.kind == PackKind.TECHNICAL_FILE else "evidence pack"

    @property
    def is_technical_file(self) -> bool:
        return self.kind == PackKind.TECHNICAL_FILE
