"""The navigation's *Access reviews* link: for governance and auditors always, for others while an open
campaign has an item waiting for them (with how many)."""

from django import template

from identity.reviews.permissions import reads_every_review
from identity.reviews.selectors import queue_count

register = template.Library()


@register.simple_tag
def access_review_nav(user) -> dict | None:
    """``{"waiting": n}`` where the link is shown, else None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    waiting = queue_count(user)
    if waiting or reads_every_review(user):
        return {"waiting": waiting}
    return None
