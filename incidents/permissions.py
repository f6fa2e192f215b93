from registry.choices import Role
from registry.permissions import can_edit_feature, has_role, is_governance


def can_open_incident(user) -> bool:
    """Everyone signed in may log an incident on a feature they can see; auditors only read."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and not (
        has_role(user, Role.AUDITOR) and not is_governance(user)
    )


def can_work_incident(user, incident) -> bool:
    """The owner and reporter, the feature's team, support and governance update an incident."""
    if not can_open_incident(user):
        return False
    return (
        user.pk in {incident.owner_id, incident.reporter_id}
        or has_role(user, Role.SUPPORT)
        or can_edit_feature(user, incident.feature)
    )
