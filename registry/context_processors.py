from registry.choices import Role
from registry.navigation import group_of, section_of
from registry.permissions import can_read_audit_trail, can_register_features, user_roles


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = user_roles(user)
    match = getattr(request, "resolver_match", None)
    section = section_of(match.namespace, match.url_name or "") if match else ""
    return {
        "nav_section": section,
        "nav_group": group_of(section),
        "nav_unread_notifications": user.notifications.filter(read_at__isnull=True).count(),
        "nav_roles": [Role(role).label for role in sorted(roles)],
        "nav_role_values": roles,
        "nav_can_read_audit": can_read_audit_trail(user),
        "nav_can_register": can_register_features(user),
    }
