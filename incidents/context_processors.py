from incidents.permissions import can_open_incident


def incident_rights(request):
    """Whether to offer *Log an incident*: auditors read only, so they are not shown a button that answers 403."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"can_log_incident": can_open_incident(user)}
