"""The one rendering of audit events: ``{% load audit_trail %}{% audit_events events as shown %}`` then
``{% include "registry/partials/audit_events.html" %}`` (see ``registry.audit_display``)."""

from django import template

from registry.audit_display import action_label, present

register = template.Library()


@register.simple_tag(takes_context=True)
def audit_events(context, events):
    """The events as the signed-in reader reads them (names, links they may open, diffs, reasons)."""
    request = context.get("request")
    return present(events, getattr(request, "user", None))


@register.filter
def audit_action_label(action: str) -> str:
    return action_label(action or "")
