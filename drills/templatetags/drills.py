from django import template

from drills.permissions import can_read_drills

register = template.Library()


@register.filter
def may_read_drills(user) -> bool:
    return can_read_drills(user)
