from incidents.choices import FREEZING_SEVERITIES
from registry.choices import Role
from registry.permissions import can_edit_feature, has_role, is_governance


def can_open_incident(user) -> bool:
    """Everyone signed in may log an incident on a feature they can see; auditors only read."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active) and not (
        has_role(user, Role.AUDITOR) and not is_governance(user)
    )


def can_open_severity(user, feature, severity: str) -> bool:
    """A SEV1/SEV2 freezes a team's promotions: only support, the owning team and governance open one.
    Anyone else files SEV3/SEV4 for them to triage."""
    if severity not in FREEZING_SEVERITIES:
        return True
    return has_role(user, Role.SUPPORT) or can_edit_feature(user, feature)


def can_work_incident(user, incident) -> bool:
    """The incident owner, the feature's team, support and governance update an incident (anyone who can
    see it may comment)."""
    if not can_open_incident(user):
        return False
    return user.pk == incident.owner_id or has_role(user, Role.SUPPORT) or can_edit_feature(user, incident.feature)


def can_report_incident(user, incident) -> bool:
    """Who decides an incident is serious and reports it: its workers (owner, the feature's team, support)
    and governance. The same people write the report's notes, record its submissions and snapshot the
    evidence; anyone who sees the incident reads all of it."""
    return can_work_incident(user, incident) or is_governance(user)
