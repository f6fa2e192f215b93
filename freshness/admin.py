"""Read-only admin views: findings and runs change only through the sweep and its services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from freshness.models import FreshnessFinding, SweepRun


@admin.register(FreshnessFinding)
class FreshnessFindingAdmin(ReadOnlyAdmin):
    list_display = ["id", "feature", "version", "environment", "evidence_kind", "state", "opened_at", "closed_at"]
    list_filter = ["state", "environment", "evidence_kind"]
    list_select_related = ["feature", "version"]
    search_fields = ["feature__slug", "feature__name"]


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "trigger", "status", "deployments_checked", "findings_opened", "findings_closed"]
    list_filter = ["status", "trigger"]
