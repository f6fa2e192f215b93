"""``{% zone_name %}``: the name of the time zone the page shows times in (the person's, set on their account)."""

from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag
def zone_name() -> str:
    return timezone.get_current_timezone_name()
