"""Who may see and change people, teams and roles in Gatehouse.

- Teams and who is in them: everyone signed in. It is the organisation's own directory, and the
  feature pages already name each feature's team and owners; knowing who is in the team that owns a
  feature is how people find whom to ask.
- Why someone holds a role or a team (the source, the reason, who granted it and when), and the People
  pages (roles, sign-ins, sessions, tokens, open work): governance admins and auditors, the same people
  who read the audit trail those reasons are kept in.
- Every change (teams, members, roles, deactivation, others' sessions and tokens): governance admins,
  through the services in ``registry.services`` (which check again, and refuse self-grants).
"""

from __future__ import annotations

from registry.permissions import is_governance, sees_everything


def can_read_teams(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_read_people(user) -> bool:
    """The People pages and the sources and reasons behind each membership."""
    return sees_everything(user)


def can_manage_people(user) -> bool:
    """Create and rename teams, add and remove members, grant and revoke roles, deactivate people, end their
    sessions and revoke their tokens."""
    return is_governance(user)
