from django.db import models


class PackFormat(models.TextChoices):
    PDF = "pdf", "PDF"
    HTML = "html", "Printable HTML"
    JSON = "json", "JSON"


class PackKind(models.TextChoices):
    EVIDENCE = "evidence", "Evidence pack"
    TECHNICAL_FILE = "technical_file", "Technical file (EU AI Act Annex IV)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


FINISHED_STATUSES = (ExportStatus.READY, ExportStatus.FAILED)

CONTENT_TYPES = {
    PackFormat.PDF: "application/pdf",
    PackFormat.HTML: "text/html; charset=utf-8",
    PackFormat.JSON: "application/json",
}

# The pack's JSON says which layout it follows, so readers can tell future changes apart.
PACK_SCHEMA = "gatehouse.evidence-pack/1"

# A build claimed this long ago and still not finished is taken to have died with its worker.
STALE_BUILD_MINUTES = 15
