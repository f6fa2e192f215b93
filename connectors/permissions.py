"""Who may see and manage an MLflow connector: governance any; a team's members their team's."""

from __future__ import annotations

from registry.permissions import is_governance, sees_everything, user_team_ids


def can_read_server(user, server) -> bool:
    return bool(user.is_authenticated) and (
        sees_everything(user) or (server.team_id is not None and server.team_id in user_team_ids(user))
    )


def can_manage_server(user, server) -> bool:
    return bool(user.is_authenticated) and (
        is_governance(user) or (server.team_id is not None and server.team_id in user_team_ids(user))
    )


def can_add_server(user, team) -> bool:
    """Governance adds any (with or without a team); a team's members add their team's."""
    if not user.is_authenticated:
        return False
    return is_governance(user) or (team is not None and team.pk in user_team_ids(user))
