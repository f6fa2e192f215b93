import json

from django import template
from django.utils.dateparse import parse_datetime

from incidents.choices import SeriousCriterion

register = template.Library()


@register.filter
def serious_label(value: str) -> str:
    """A serious-incident criterion in words, lower case to sit in a sentence."""
    try:
        label = str(SeriousCriterion(value).label)
    except ValueError:
        return value
    return label[:1].lower() + label[1:]


@register.filter
def moment(value):
    """An ISO 8601 moment of a draft or a snapshot, as a date-time for the ``date`` filter ("" stays "")."""
    if not value:
        return ""
    try:
        return parse_datetime(str(value)) or value
    except ValueError:
        return value


@register.filter
def as_json(value) -> str:
    """A part of a draft or a snapshot as indented JSON (parameters, tools): shown as it is kept."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
