"""Django admin: reference data and a read-only view of the record.

Writes that carry business rules (features, versions, evaluations, catalog entries) go through the
app's pages and API, which call the services and audit them; here those models are read-only.
"""

from django.contrib import admin

from registry.models import (
    AIFeature,
    ApiToken,
    AuditEvent,
    CatalogModel,
    Dataset,
    Evaluation,
    FeatureVersion,
    Notification,
    PolicyPack,
    PromptVersion,
    Region,
    Team,
    Vendor,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible to staff for reference; changes go through the app so they are checked and audited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """Where an operator finds emails given up (``email_failed_at``): filter on *email failed at*."""

    list_display = ["user", "subject", "created_at", "emailed_at", "email_failed_at", "email_error"]
    list_filter = [("email_failed_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["user"]
    search_fields = ["subject", "user__username"]


@admin.register(Region)
class RegionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Team)
class TeamAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "group"]
    search_fields = ["name", "slug"]


@admin.register(Vendor)
class VendorAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "status"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]


@admin.register(CatalogModel)
class CatalogModelAdmin(ReadOnlyAdmin):
    list_display = ["identifier", "vendor", "status", "context_window"]
    list_filter = ["status", "vendor"]
    search_fields = ["identifier", "display_name"]


@admin.register(PromptVersion)
class PromptVersionAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "content_hash", "created_at"]
    search_fields = ["name"]


@admin.register(PolicyPack)
class PolicyPackAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "created_at"]
    search_fields = ["name"]


@admin.register(Dataset)
class DatasetAdmin(ReadOnlyAdmin):
    list_display = ["name", "version", "classification", "owner"]
    list_filter = ["classification"]
    search_fields = ["name", "uri"]


@admin.register(AIFeature)
class AIFeatureAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "team", "risk_tier", "status", "restricted"]
    list_filter = ["risk_tier", "status", "restricted", "team"]
    search_fields = ["name", "slug"]


@admin.register(FeatureVersion)
class FeatureVersionAdmin(ReadOnlyAdmin):
    list_display = ["feature", "number", "status", "model", "prompt", "policy_pack", "created_at"]
    list_filter = ["status"]
    list_select_related = ["feature", "model", "prompt", "policy_pack"]
    search_fields = ["feature__slug"]


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ["version", "kind", "metric", "score", "threshold", "passed", "run_at"]
    list_filter = ["kind", "passed"]
    list_select_related = ["version", "version__feature"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["name", "user__username", "prefix"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "at", "actor_name", "source", "action", "object_type", "object_id"]
    list_filter = ["source", "object_type"]
    search_fields = ["action", "actor_name", "object_repr", "request_id"]
