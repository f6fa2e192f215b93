"""Django admin pieces every app's admin uses."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff for reference; changes go through the app so they are checked and audited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
