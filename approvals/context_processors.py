from approvals.selectors import queue_count


def queue_badge(request):
    """The number of sign-offs waiting for the user's roles, for the navigation badge (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_queue_count": queue_count(user)}
