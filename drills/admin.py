from django.contrib import admin

from drills.models import DrillRun


@admin.register(DrillRun)
class DrillRunAdmin(admin.ModelAdmin):
    """Read-only: a drill report is a record; new drills are run from the Drills page or the API."""

    list_display = ("id", "title", "kind", "author", "created_at", "routes_lost", "routes_moved", "routes_warned")
    list_filter = ("kind",)
    search_fields = ("title", "note", "author__username")
    readonly_fields = [field.name for field in DrillRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
