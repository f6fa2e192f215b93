from django.contrib import admin

from readiness.models import ReadinessSnapshot


@admin.register(ReadinessSnapshot)
class ReadinessSnapshotAdmin(admin.ModelAdmin):
    list_display = ("feature", "day", "ok_count", "total", "ready", "live", "taken_at")
    list_filter = ("ready", "live", "day")
    search_fields = ("feature__name", "feature__slug")
    list_select_related = ("feature",)
    readonly_fields = [field.name for field in ReadinessSnapshot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
