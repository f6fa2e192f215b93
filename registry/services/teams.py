"""Teams, their members and roles: the one write path for who belongs where.

Membership is the Django group's (a team's group, or a role's group), which is what permissions read.
Each ``Membership`` row says which source holds the person there and why: ``manual`` (governance, on a
page, the API or the command line), ``idp`` (the identity provider's group claims, applied at sign-in)
or ``scim`` (the identity provider's provisioning). A person leaves a group when the last source
holding them there lets go, except that a manual removal by governance removes every source at once
(and the identity provider adds them back at its next sign-in or push only if it still says so).

Separation of duties: nobody grants themselves a role or adds themselves to a team, the last active
governance admin keeps the role, and a change that would leave someone's sign-off on an open request
one they may no longer give is not silent: the ``membership_listeners`` extension point (approvals)
withdraws such sign-offs, audited, in the same transaction, and ``membership_consequences`` lets a page
say so before the change is confirmed.

Access reviews (``identity``) remove what a reviewer revokes through ``role_revoke`` and
``team_member_remove`` with ``review=``: the review service has checked that the actor is a reviewer
assigned to that item (a team's accountable owner need not be governance), so the governance check is
replaced by that one, for removals only and for manual removals only, and the audit event names the
review. Nobody is given anything that way.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core import error_codes
from core.exceptions import Refused
from core.locks import save_unique
from registry import extensions
from registry.choices import MembershipSource, Role
from registry.models import Membership, Team
from registry.permissions import forget_cached_rights, is_governance
from registry.services.audit import audit_person, audit_record


def _authorise(*, actor, user, source: str, adding: bool, what: str, review: dict | None = None) -> None:
    """Who may change a membership from which source.

    ``review`` (removals only): the access review item deciding it, ``{"review": id, "item": id, "name": ...}``;
    its caller has checked that ``actor`` is the item's reviewer, which stands in for the governance check."""
    if source not in MembershipSource.values:
        raise ValidationError(f"{source!r} is not a membership source.")
    if review is not None:
        if adding or source != MembershipSource.MANUAL:
            raise PermissionDenied("An access review only removes access, as a manual change.")
        if actor is None or not actor.is_active or not {"review", "item"} <= set(review):
            raise PermissionDenied("An access review's removal names its active reviewer and the item.")
        return
    if source == MembershipSource.IDP:
        if actor is not None:
            raise PermissionDenied("Identity provider mappings are applied at sign-in, not by a person.")
        return
    if not is_governance(actor):
        raise PermissionDenied(f"Only governance admins {what}.")
    if adding and actor.pk == user.pk:
        raise Refused(
            "Separation of duties: nobody grants themselves a role or a team; ask another admin.",
            code=error_codes.SEPARATION_OF_DUTIES,
        )


def _reason(reason: str, source: str) -> str:
    reason = (reason or "").strip()
    if source == MembershipSource.MANUAL and not reason:
        raise ValidationError({"reason": "Say why: the reason is kept in the audit trail."})
    return reason[:2000]


def _lock_user(user):
    return get_user_model().objects.select_for_update().get(pk=user.pk)


def _join(*, actor, user, group: Group, source: str, reason: str) -> tuple[bool, bool]:
    """(this source newly holds the person there, the person newly in the group)."""
    _, created = Membership.objects.get_or_create(
        user=user,
        group=group,
        source=source,
        defaults={"reason": reason, "granted_by": actor, "granted_at": timezone.now()},
    )
    joined = not group.user_set.filter(pk=user.pk).exists()
    if joined:
        group.user_set.add(user)
    return created, joined


def _leave(*, user, group: Group, source: str) -> tuple[bool, bool]:
    """(a source let go, the person left the group).

    A manual removal removes every source. Another source's removal ends the membership only if that
    source held the person there and no other does (a membership recorded before sources were kept
    counts as manual)."""
    rows = Membership.objects.filter(user=user, group=group)
    if source != MembershipSource.MANUAL:
        rows = rows.filter(source=source)
    released = rows.delete()[0] > 0
    if not group.user_set.filter(pk=user.pk).exists():
        return released, False
    if source == MembershipSource.MANUAL or (
        released and not Membership.objects.filter(user=user, group=group).exists()
    ):
        group.user_set.remove(user)
        return released, True
    return released, False


def _changed(*, actor, user, reason: str, removed_roles=(), joined_team_ids=(), left_team_ids=()) -> None:
    forget_cached_rights(user)
    extensions.membership_changed(
        user,
        actor=actor,
        reason=reason,
        removed_roles=tuple(removed_roles),
        joined_team_ids=tuple(joined_team_ids),
        left_team_ids=tuple(left_team_ids),
    )


def _role_group(role: str) -> Group:
    if role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    group, _ = Group.objects.get_or_create(name=role)
    return group


# --- Teams -----------------------------------------------------------------------------------------


# Slugs the team pages' own URLs use (/teams/new/): a team named so could not be opened.
RESERVED_TEAM_SLUGS = frozenset({"new"})


def team_create(*, actor, slug: str, name: str, description: str = "") -> Team:
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins create teams.")
    slug, name, description = (slug or "").strip(), (name or "").strip(), (description or "").strip()
    if slug in RESERVED_TEAM_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is kept for the pages' own addresses; choose another slug."})
    with transaction.atomic():
        team = Team(slug=slug, name=name, description=description)
        team.full_clean(exclude=["group"])  # a bad slug is refused before its group is made
        team.group, _ = Group.objects.get_or_create(name=f"team:{slug}")
        save_unique(team)
        audit_record(actor=actor, action="team.created", target=team, payload={"new": {"slug": slug, "name": name}})
    return team


def team_update(*, actor, team: Team, name: str, description: str, reason: str = "") -> Team:
    """Rename a team or change its description. The slug (in URLs and the API) stays."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins rename teams.")
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        old = {"name": locked.name, "description": locked.description}
        locked.name = (name or "").strip()
        locked.description = (description or "").strip()
        locked.full_clean()
        new = {"name": locked.name, "description": locked.description}
        if new == old:
            return locked
        save_unique(locked)
        audit_record(
            actor=actor,
            action="team.updated",
            target=locked,
            payload={"old": old, "new": new, "reason": (reason or "").strip()},
        )
    return locked


def team_member_add(*, actor, team: Team, user, reason: str = "", source: str = MembershipSource.MANUAL) -> bool:
    """Put ``user`` in ``team``. True when the person was not a member before."""
    _authorise(actor=actor, user=user, source=source, adding=True, what="change team membership")
    reason = _reason(reason, source)
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is deactivated."})
    with transaction.atomic():
        _lock_user(user)
        created, joined = _join(actor=actor, user=user, group=team.group, source=source, reason=reason)
        if not (created or joined):
            return False
        if joined:  # first: a listener locks its rows before the audit chain's lock is taken
            _changed(actor=actor, user=user, reason=reason, joined_team_ids=[team.pk])
        audit_record(
            actor=actor,
            action="team.member_added",
            target=team,
            payload={"user": user.get_username(), "source": source, "reason": reason, "joined": joined},
        )
    return joined


def team_member_remove(
    *, actor, team: Team, user, reason: str = "", source: str = MembershipSource.MANUAL, review: dict | None = None
) -> bool:
    """Take ``user`` out of ``team`` (for ``source``). True when the person left the team.

    ``review``: an access review's decision (see the module's docstring); the audit event carries it."""
    _authorise(actor=actor, user=user, source=source, adding=False, what="change team membership", review=review)
    reason = _reason(reason, source)
    with transaction.atomic():
        _lock_user(user)
        released, left = _leave(user=user, group=team.group, source=source)
        if not (released or left):
            return False
        if left:
            _changed(actor=actor, user=user, reason=reason, left_team_ids=[team.pk])
        audit_record(
            actor=actor,
            action="team.member_removed",
            target=team,
            payload={
                "user": user.get_username(),
                "source": source,
                "reason": reason,
                "left": left,
                **({"review": review} if review else {}),
            },
        )
    return left


# --- Roles -----------------------------------------------------------------------------------------


def role_grant(*, actor, user, role: str, reason: str = "", source: str = MembershipSource.MANUAL) -> bool:
    """Give ``user`` ``role``. True when the person did not hold it before."""
    _authorise(actor=actor, user=user, source=source, adding=True, what="grant roles")
    reason = _reason(reason, source)
    group = _role_group(role)
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is deactivated."})
    with transaction.atomic():
        _lock_user(user)
        created, joined = _join(actor=actor, user=user, group=group, source=source, reason=reason)
        if not (created or joined):
            return False
        audit_person(
            actor=actor,
            action="role.granted",
            person=user,
            payload={"role": role, "source": source, "reason": reason, "joined": joined},
        )
        forget_cached_rights(user)
    return joined


def role_revoke(
    *, actor, user, role: str, reason: str = "", source: str = MembershipSource.MANUAL, review: dict | None = None
) -> bool:
    """Take ``role`` from ``user`` (for ``source``). True when the person no longer holds it.

    ``review``: an access review's decision (see the module's docstring); the audit event carries it."""
    _authorise(actor=actor, user=user, source=source, adding=False, what="revoke roles", review=review)
    reason = _reason(reason, source)
    group = _role_group(role)
    with transaction.atomic():
        _lock_user(user)
        if role == Role.GOVERNANCE and group.user_set.filter(pk=user.pk).exists():
            others = group.user_set.filter(is_active=True).exclude(pk=user.pk)
            if not others.exists():
                raise ValidationError(
                    {"role": "This is the last active governance admin: grant the role to someone else first."}
                )
        released, left = _leave(user=user, group=group, source=source)
        if not (released or left):
            return False
        if left:
            _changed(actor=actor, user=user, reason=reason, removed_roles=[role])
        audit_person(
            actor=actor,
            action="role.revoked",
            person=user,
            payload={
                "role": role,
                "source": source,
                "reason": reason,
                "left": left,
                **({"review": review} if review else {}),
            },
        )
    return left


def membership_consequences(user, *, removed_roles=(), joined_team_ids=(), left_team_ids=()) -> list[str]:
    """What a change would do beyond itself (e.g. withdraw an open sign-off), for a confirmation page."""
    return extensions.membership_consequences(
        user,
        removed_roles=tuple(removed_roles),
        joined_team_ids=tuple(joined_team_ids),
        left_team_ids=tuple(left_team_ids),
    )
