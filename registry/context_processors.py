from registry.choices import Role
from registry.permissions import can_read_audit_trail, can_register_features, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    return {
        "nav_unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
        "nav_roles": [Role(role).label for role in sorted(roles)],
        "nav_role_values": roles,
        "nav_can_read_audit": can_read_audit_trail(user),
        "nav_can_register": can_register_features(user),
    }
