"""Teams and their members. Membership is the team group's; role membership is the role group's."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core.locks import save_unique
from registry.choices import Role
from registry.models import Team
from registry.permissions import forget_cached_rights, is_governance
from registry.services.audit import audit_record


def team_create(*, actor, slug: str, name: str, description: str = "") -> Team:
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins create teams.")
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=f"team:{slug}")
        team = Team(slug=slug, name=name, description=description, group=group)
        team.full_clean()
        save_unique(team)
        audit_record(actor=actor, action="team.created", target=team, payload={"new": {"slug": slug, "name": name}})
    return team


def team_member_add(*, actor, team: Team, user) -> None:
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins change team membership.")
    with transaction.atomic():
        if team.group.user_set.filter(pk=user.pk).exists():
            return
        team.group.user_set.add(user)
        audit_record(actor=actor, action="team.member_added", target=team, payload={"user": user.get_username()})
    forget_cached_rights(user)


def role_grant(*, actor, user, role: str) -> None:
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins grant roles.")
    if role not in Role.values:
        raise ValidationError(f"{role!r} is not a role.")
    with transaction.atomic():
        group = Group.objects.get(name=role)
        if group.user_set.filter(pk=user.pk).exists():
            return
        group.user_set.add(user)
        audit_record(
            actor=actor,
            action="role.granted",
            object_type="user",
            object_id=user.pk,
            payload={"user": user.get_username(), "role": role},
        )
    forget_cached_rights(user)
