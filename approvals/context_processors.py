from approvals.selectors import queue_count
from core.memo import once_per_request

QUEUE_COUNT = "approvals.queue_count"


def queue_badge(request):
    """The number of sign-offs waiting for the user's roles, for the navigation badge (one query, none on the
    unfiltered queue page, whose paginator counted the same sign-offs)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_queue_count": once_per_request(request, QUEUE_COUNT, lambda: queue_count(user))}
