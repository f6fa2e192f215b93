"""Who may do what. Every page, endpoint and service asks here; nothing decides permissions inline.

Authorisation follows domain relations: roles are fixed groups, and a team's group holds
django-guardian object permissions (direct foreign-key tables) on the features it owns.
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm, remove_perm

from registry.choices import Role
from registry.models import AIFeature, Team

FEATURE_TEAM_PERMISSIONS = ("registry.view_aifeature", "registry.change_aifeature")


def user_roles(user) -> frozenset[str]:
    """The role names the user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_gatehouse_roles", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._gatehouse_roles = cached
    return cached


def user_team_ids(user) -> frozenset[int]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_gatehouse_team_ids", None)
    if cached is None:
        cached = frozenset(Team.objects.filter(group__user=user).values_list("pk", flat=True))
        user._gatehouse_team_ids = cached
    return cached


def forget_cached_rights(user) -> None:
    for attribute in ("_gatehouse_roles", "_gatehouse_team_ids", "_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attribute, None)


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def is_governance(user) -> bool:
    return bool(getattr(user, "is_superuser", False) and user.is_active) or has_role(user, Role.GOVERNANCE)


def sees_everything(user) -> bool:
    """Governance admins and auditors read every feature, restricted ones included."""
    return is_governance(user) or has_role(user, Role.AUDITOR)


def can_read_audit_trail(user) -> bool:
    return sees_everything(user)


def _is_read_only(user) -> bool:
    """Auditors read everything and change nothing, whatever teams they belong to."""
    return has_role(user, Role.AUDITOR) and not is_governance(user)


def can_create_feature_for(user, team: Team) -> bool:
    if _is_read_only(user):
        return False
    return is_governance(user) or team.pk in user_team_ids(user)


def can_register_features(user) -> bool:
    if _is_read_only(user):
        return False
    return is_governance(user) or bool(user_team_ids(user))


def can_edit_feature(user, feature: AIFeature) -> bool:
    """Members of the owning team (through the guardian grant) and governance admins."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_governance(user):
        return True
    if _is_read_only(user):
        return False
    return user.has_perm("registry.change_aifeature", feature)


def can_roll_back(user, feature: AIFeature, *, from_incident: bool = False, may_edit: bool | None = None) -> bool:
    """Who may return a live pointer to a version that served before: the owning team and governance
    admins; support too when the rollback is made from an incident. The rollback service, the feature
    page, the rollback page and the incident page all ask here.

    ``may_edit``: what ``can_edit_feature(user, feature)`` answered already, where the caller has it (a
    page that asked spares asking again)."""
    if may_edit is None:
        may_edit = can_edit_feature(user, feature)
    return may_edit or (from_incident and has_role(user, Role.SUPPORT))


def feature_owner_candidates():
    """Who can hold a feature's accountable or incident ownership: active people with a team or a role,
    auditors excepted (they oversee, they do not own)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    users = get_user_model().objects.filter(is_active=True)
    holders = users.filter(Q(is_superuser=True) | Q(groups__name__in=Role.values) | Q(groups__team__isnull=False))
    return users.filter(pk__in=holders.values("pk")).exclude(groups__name=Role.AUDITOR)


def owner_refusal(user, label: str) -> str | None:
    """Why ``user`` cannot be a feature's ``label`` (e.g. "accountable owner"), or None when they can."""
    name = user.get_username()
    if not user.is_active:
        return f"{name} is deactivated, so cannot be its {label}."
    if has_role(user, Role.AUDITOR):
        return f"{name} is an auditor: auditors oversee features and cannot be their {label}."
    if not feature_owner_candidates().filter(pk=user.pk).exists():
        return f"{name} has no team and no role in Gatehouse, so cannot be its {label}."
    return None


def dataset_owner_choices(user):
    """The teams ``user`` may name as a dataset's owner: their own teams; any team for governance."""
    teams = Team.objects.order_by("name")
    return teams if is_governance(user) else teams.filter(pk__in=user_team_ids(user))


def can_manage_catalog(user, entry: str) -> bool:
    """Vendors, models and policy packs are governance's; prompts and datasets also ML and product."""
    if is_governance(user):
        return True
    if _is_read_only(user):
        return False
    if entry in {"prompt", "dataset"}:
        return has_role(user, Role.ML, Role.PRODUCT)
    return False


def feature_grant_to_team(*, feature: AIFeature, team: Team, previous_team: Team | None = None) -> None:
    """Give the owning team's group its object permissions; take them from the team it replaces."""
    if previous_team is not None and previous_team.pk != team.pk:
        for perm in FEATURE_TEAM_PERMISSIONS:
            remove_perm(perm, previous_team.group, feature)
    for perm in FEATURE_TEAM_PERMISSIONS:
        assign_perm(perm, team.group, feature)


def feature_share_with_group(*, feature: AIFeature, group: Group) -> None:
    """A read-only grant of one feature to another group (e.g. an external review board)."""
    assign_perm("registry.view_aifeature", group, feature)
