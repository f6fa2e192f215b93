from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def iso_when(value: str | None) -> str:
    """An ISO date-time from a pack's content, as ``24 Nov 2026 01:04 UTC``; an em dash when empty."""
    if not value:
        return "—"
    moment = parse_datetime(value)
    if moment is None:
        return value
    return moment.strftime("%d %b %Y %H:%M ") + (moment.tzname() or "")


@register.filter
def as_json(value) -> str:
    """Tools and parameters as compact JSON, the way they were registered."""
    import json

    if value in (None, "", [], {}):
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
