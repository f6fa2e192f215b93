"""Read-only admin views: webhooks change through their pages and API, which check and audit. Never the secret."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["name", "team", "target_url", "active", "secret_prefix", "created_by", "created_at"]
    list_filter = ["active", "team"]
    list_select_related = ["team", "created_by"]
    search_fields = ["name", "target_url"]
    exclude = ["secret"]
    readonly_fields = ["secret_prefix"]


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["at", "succeeded", "status_code", "error", "duration_ms"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["id", "subscription", "event", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "event"]
    list_select_related = ["subscription"]
    inlines = [WebhookAttemptInline]
