"""Read-only admin view: packs are asked for, built and downloaded through their pages and API, which audit."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from packs.models import PackExport


@admin.register(PackExport)
class PackExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "feature", "version", "format", "status", "progress", "requested_by", "created_at", "size"]
    list_filter = ["status", "format"]
    list_select_related = ["feature", "version", "requested_by"]
    search_fields = ["feature__slug", "feature__name", "sha256"]
