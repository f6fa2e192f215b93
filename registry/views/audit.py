from django.core.exceptions import PermissionDenied

from registry import selectors
from registry.filters import AuditEventFilter
from registry.permissions import can_read_audit_trail
from registry.views.base import FilteredListView


class AuditEventListView(FilteredListView):
    """The whole trail, for governance admins and auditors. Others see a feature's history on its page."""

    filterset_class = AuditEventFilter
    template_name = "registry/audit_list.html"
    partial_template_name = "registry/partials/audit_table.html"
    paginate_by = 50

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can_read_audit_trail(request.user):
            raise PermissionDenied("The audit trail is open to governance admins and auditors.")
        return super().dispatch(request, *args, **kwargs)

    def get_base_queryset(self):
        return selectors.audit_events_visible_to(self.request.user)
