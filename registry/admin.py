"""Django admin: reference data and a read-only view of the record.

Writes that carry business rules (features, versions, evaluations, catalog entries) go through the
app's pages and API, which call the services and audit them; here those models are read-only.
"""

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpResponseRedirect
from django.urls import reverse

from core.admin import ReadOnlyAdmin
from registry.models import (
    AIFeature,
    ApiToken,
    AuditCheckpoint,
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
from registry.views.auth import RateLimitedAdminAuthenticationForm

# /admin/login/ counts failed sign-ins with the app's sign-in page: one limit, whichever door is tried.
admin.site.login_form = RateLimitedAdminAuthenticationForm


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
    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    search_fields = ["name", "user__username", "prefix"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["sequence", "at", "actor_name", "source", "action", "object_type", "object_id"]
    list_filter = ["source", "object_type"]
    search_fields = ["action", "actor_name", "object_repr", "request_id"]


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """For display: verification relies on the anchor file (GATEHOUSE_AUDIT_ANCHOR_FILE), not on this table."""

    list_display = ["at", "sequence", "head_hash", "key_id", "anchored"]
    list_filter = ["anchored", "key_id"]


User = get_user_model()


def _actors_in_trail(users) -> dict[int, int]:
    """How many audit events each of these users made, for those who made any."""
    from django.db.models import Count

    rows = AuditEvent.objects.filter(actor__in=users).values("actor").annotate(events=Count("id"))
    return {row["actor"]: row["events"] for row in rows}


def _keep_instead(user, events: int) -> str:
    return (
        f"The account {user.get_username()} has acted in the audit trail ({events} event{'s' if events != 1 else ''}), "
        "which must keep who did what: deactivate the account instead (untick \u201cActive\u201d). "
        "Only accounts that never acted can be deleted."
    )


if admin.site.is_registered(User):
    admin.site.unregister(User)
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ReadOnlyAdmin):
    """Roles and teams are groups: read-only here, changed on the People and Teams pages (audited)."""

    list_display = ["name"]
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, except that a person who appears as an actor in the audit trail is never
    deleted (the trail's hashes cover their id; the database protects it too): they are deactivated.

    Roles and teams (the user's groups) and per-user permissions are read-only here: they change on the
    People and Teams pages (or their API), through services that check separation of duties, keep a
    reason and audit the change. The admin shows where."""

    readonly_fields = ("groups", "user_permissions", "roles_and_teams")

    @admin.display(description="Change roles and teams")
    def roles_and_teams(self, user):
        from django.utils.html import format_html

        if user is None or user.pk is None:
            return "On the People page, once the account exists."
        return format_html(
            '<a href="{}">On the People page</a>: audited, with a reason, and nobody grants themselves a role.',
            reverse("identity:person_detail", args=[user.get_username()]),
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            (name, {**options, "fields": (*options["fields"], "roles_and_teams")})
            if "groups" in options.get("fields", ())
            else (name, options)
            for name, options in fieldsets
        ]

    def delete_view(self, request, object_id, extra_context=None):
        user = self.get_object(request, object_id)
        if user is not None:
            events = _actors_in_trail([user]).get(user.pk)
            if events:
                self.message_user(request, _keep_instead(user, events), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:auth_user_change", args=[user.pk]))
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        """For the bulk delete action: users in the trail are listed as protected, with what to do instead."""
        objs = list(objs)
        in_trail = _actors_in_trail(objs)
        if in_trail:
            kept = [_keep_instead(user, in_trail[user.pk]) for user in objs if user.pk in in_trail]
            return [], {}, set(), kept
        return super().get_deleted_objects(objs, request)
