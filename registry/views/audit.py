from django.conf import settings

from core.views import FilteredListView, PermissionRuleMixin
from registry import selectors
from registry.filters import AuditEventFilter, ReadRecordFilter
from registry.permissions import can_read_audit_trail


class AuditEventListView(PermissionRuleMixin, FilteredListView):
    """The whole trail, for governance admins and auditors. Others see a feature's history on its page."""

    filterset_class = AuditEventFilter
    template_name = "registry/audit_list.html"
    partial_template_name = "registry/partials/audit_table.html"
    paginate_by = 50
    permission_required = can_read_audit_trail
    permission_denied_message = "The audit trail is open to governance admins and auditors."

    def get_base_queryset(self):
        return selectors.audit_events_visible_to(self.request.user)


class ReadRecordListView(AuditEventListView):
    """Who read which restricted feature, version or evidence, and when: for governance admins and auditors."""

    filterset_class = ReadRecordFilter
    template_name = "registry/read_list.html"
    partial_template_name = "registry/partials/read_table.html"

    def get_base_queryset(self):
        return selectors.read_records_visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "dedup_minutes": max(1, settings.READ_RECORD_DEDUP_SECONDS // 60)}
