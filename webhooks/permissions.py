"""Who may read and manage webhooks.

Governance admins manage every subscription, including those for every feature (restricted ones too).
Product owners and ML engineers manage their own teams' subscriptions, which only ever carry their
team's features. Auditors read everything and change nothing. Nobody else sees any.
"""

from django.core.exceptions import PermissionDenied

from registry.choices import Role
from registry.permissions import has_role, is_governance, user_team_ids

MANAGER_ROLES = (Role.PRODUCT, Role.ML)
MANAGER_REFUSAL = "Only governance admins and the team's product owners and ML engineers manage this webhook."
CREATOR_REFUSAL = "Governance admins and teams' product owners and ML engineers create webhooks."


def managed_team_ids(user) -> frozenset[int]:
    """The teams whose subscriptions the user manages as a member (governance admins manage all anyway)."""
    if not has_role(user, *MANAGER_ROLES) or has_role(user, Role.AUDITOR):
        return frozenset()
    return user_team_ids(user)


def can_manage_webhooks_of(user, team_id: int | None) -> bool:
    """``team_id`` None: subscriptions for every feature, governance admins' alone."""
    return is_governance(user) or (team_id is not None and team_id in managed_team_ids(user))


def can_manage_subscription(user, subscription) -> bool:
    return can_manage_webhooks_of(user, subscription.team_id)


def require_manager(user, subscription) -> None:
    if not can_manage_subscription(user, subscription):
        raise PermissionDenied(MANAGER_REFUSAL)


def can_create_webhooks(user) -> bool:
    return is_governance(user) or bool(managed_team_ids(user))
