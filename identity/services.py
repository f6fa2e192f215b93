"""Identity's write path: the group mappings governance edits, and what a single sign-on does to a person.

Every change here is audited in its own transaction. Roles and teams are changed only through
``registry.services.teams`` with ``source=idp`` and no actor: the identity provider's groups decide, at
every sign-in, and a person keeps what another source (a manual grant, SCIM) gives them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.locks import lock_name, save_unique
from identity.models import GroupMapping, OidcIdentity, ScimUser
from registry.choices import MembershipSource, Role
from registry.models import Membership, Team
from registry.permissions import is_governance
from registry.services.audit import audit_person, audit_record
from registry.services.people import person_deactivate
from registry.services.teams import role_grant, role_revoke, team_member_add, team_member_remove

log = logging.getLogger("gatehouse.identity")


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: the reason is kept in the audit trail."})
    return reason[:2000]


# --- Group mappings --------------------------------------------------------------------------------


def _describe(mapping: GroupMapping) -> dict:
    return {
        "group": mapping.group_name,
        "role": mapping.role or None,
        "team": mapping.team.slug if mapping.team_id else None,
    }


def group_mapping_create(*, actor, group_name: str, role: str = "", team: Team | None = None, reason: str = ""):
    """Governance: members of ``group_name`` at the identity provider get ``role`` (or join ``team``).

    Takes effect at each person's next sign-in (the groups Gatehouse last saw may be out of date, and a
    mapping never grants on stale information)."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins change group mappings.")
    reason = _reason(reason)
    group_name = (group_name or "").strip()
    if not group_name:
        raise ValidationError({"group_name": "Name the group as the identity provider sends it."})
    if bool(role) == bool(team):
        raise ValidationError("A mapping gives either a role or a team.")
    if role and role not in Role.values:
        raise ValidationError({"role": f"{role!r} is not a role."})
    with transaction.atomic():
        mapping = GroupMapping(group_name=group_name, role=role or "", team=team, note=reason[:200], created_by=actor)
        mapping.full_clean()
        save_unique(mapping)
        audit_record(
            actor=actor,
            action="identity.group_mapping_created",
            target=mapping,
            payload={**_describe(mapping), "reason": reason},
        )
    return mapping


def group_mapping_delete(*, actor, mapping: GroupMapping, reason: str = "") -> list[str]:
    """Governance: remove a mapping. Whoever holds its role or team through the identity provider and
    no other mapping of their last-seen groups loses it now (not at their next sign-in). Returns
    sentences about what could not be taken away (the last governance admin keeps the role)."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins change group mappings.")
    reason = _reason(reason)
    notes: list[str] = []
    with transaction.atomic():
        locked = (
            GroupMapping.objects.select_for_update(of=("self",)).select_related("team").filter(pk=mapping.pk).first()
        )
        if locked is None:
            return notes
        described = _describe(locked)
        group = _target_group(locked)
        affected = list(
            get_user_model()
            .objects.filter(memberships__group=group, memberships__source=MembershipSource.IDP)
            .select_related("oidc_identity")
            .distinct()
        )
        locked.delete()
        audit_record(
            actor=actor,
            action="identity.group_mapping_deleted",
            object_type="groupmapping",
            object_id=mapping.pk,
            payload={**described, "reason": reason, "people": len(affected)},
        )
        why = f"the mapping {described['group']} was deleted by {actor.get_username()}: {reason}"
        for user in affected:
            identity = getattr(user, "oidc_identity", None)
            result = group_mappings_apply(user=user, groups=identity.groups if identity else [], why=why)
            notes.extend(result.kept)
    return notes


def _target_group(mapping: GroupMapping):
    from django.contrib.auth.models import Group

    if mapping.team_id:
        return mapping.team.group
    group, _ = Group.objects.get_or_create(name=mapping.role)
    return group


def mapped_grants(group_names: Iterable[str], *, order_by: str | None = None):
    """What the mappings give members of ``group_names``: ``({role: group}, {team id: (team, group)})``, the
    group being the first (in ``order_by``, else the mappings' order) that gives it."""
    mappings = GroupMapping.objects.filter(group_name__in=list(group_names)).select_related("team", "team__group")
    roles: dict[str, str] = {}
    teams: dict[int, tuple[Team, str]] = {}
    for mapping in mappings.order_by(order_by) if order_by else mappings:
        if mapping.role:
            roles.setdefault(mapping.role, mapping.group_name)
        elif mapping.team_id:
            teams.setdefault(mapping.team_id, (mapping.team, mapping.group_name))
    return roles, teams


def held_through(user, source: str) -> tuple[set[str], dict[int, Team]]:
    """The roles and the teams (by id) ``source`` holds ``user`` in."""
    held = Membership.objects.filter(user=user, source=source).select_related("group__team")
    roles = {row.group.name for row in held if row.group.name in Role.values}
    teams = {row.group.team.pk: row.group.team for row in held if hasattr(row.group, "team")}
    return roles, teams


@dataclass
class Applied:
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # what could not be taken away, and why


def group_mappings_apply(*, user, groups: Iterable[str], why: str = "") -> Applied:
    """Make the roles and teams the identity provider gives ``user`` exactly those its mappings give
    ``groups``: grant what is missing, take back what no group gives any more (``source=idp``; what
    another source gives stays). Each change is audited by the service that makes it."""
    groups = {name for name in groups if isinstance(name, str)}
    applied = Applied()
    wanted_roles, wanted_teams = mapped_grants(groups)
    held_roles, held_teams = held_through(user, MembershipSource.IDP)
    idp = MembershipSource.IDP
    grants = user.is_active  # a deactivated person is given nothing; what no group gives is still taken back
    with transaction.atomic():
        for role, group in sorted(wanted_roles.items() if grants else ()):
            if role_grant(actor=None, user=user, role=role, reason=f"In {group} at the identity provider", source=idp):
                applied.granted.append(role)
        for team, group in sorted(wanted_teams.values() if grants else (), key=lambda pair: pair[0].name):
            if team_member_add(
                actor=None, team=team, user=user, reason=f"In {group} at the identity provider", source=idp
            ):
                applied.joined.append(team.name)
        gone = why or "No longer in a group that gives it at the identity provider"
        for role in sorted(held_roles - wanted_roles.keys()):
            try:
                if role_revoke(actor=None, user=user, role=role, reason=gone, source=MembershipSource.IDP):
                    applied.revoked.append(role)
            except ValidationError as refusal:
                message = " ".join(refusal.messages)
                log.warning("identity provider mapping: %s keeps %s: %s", user.get_username(), role, message)
                applied.kept.append(f"{user.get_username()} keeps {Role(role).label}: {message}")
        for team_id in sorted(held_teams.keys() - wanted_teams.keys()):
            team = held_teams[team_id]
            if team_member_remove(actor=None, team=team, user=user, reason=gone, source=MembershipSource.IDP):
                applied.left.append(team.name)
    return applied


# --- Single sign-on --------------------------------------------------------------------------------


class SignInRefused(Exception):
    """The identity provider vouched for the person, but Gatehouse does not let them in."""

    def __init__(self, message: str, *, deactivated: bool = False, no_access: bool = False):
        super().__init__(message)
        self.deactivated = deactivated
        self.no_access = no_access


@dataclass
class SignedIn:
    user: object
    created: bool
    groups: list[str] | None  # None: the groups claim was missing
    applied: Applied


_NOT_IN_USERNAMES = re.compile(r"[^\w.@+-]+")


def claim(claims: dict, path: str):
    """A claim by name, or by a dotted path into nested claims (``realm_access.roles``)."""
    if path in claims:
        return claims[path]
    value = claims
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def groups_from(value) -> list[str] | None:
    """The groups claim as a list of names; None when there is no such claim."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple):
        return []
    return sorted({item.strip() for item in value if isinstance(item, str) and item.strip()})


def _new_username(claims: dict, username_claim: str) -> str:
    """From the username claim, else the email, else the subject; made unique with -2, -3..."""
    for candidate in (claim(claims, username_claim), claims.get("email"), claims.get("sub")):
        if isinstance(candidate, str) and candidate.strip():
            base = _NOT_IN_USERNAMES.sub("-", candidate.strip())[:140].strip("-") or "person"
            break
    else:
        base = "person"
    users = get_user_model().objects
    name, number = base, 1
    while users.filter(username__iexact=name).exists():
        number += 1
        name = f"{base}-{number}"
    return name


def _profile(claims: dict) -> dict:
    def text(name: str, limit: int) -> str:
        value = claims.get(name)
        return value.strip()[:limit] if isinstance(value, str) else ""

    first, last = text("given_name", 150), text("family_name", 150)
    if not (first or last) and text("name", 300):
        first, _, last = text("name", 300).partition(" ")
    return {"email": text("email", 254), "first_name": first[:150], "last_name": last[:150]}


def _provisioned_account(claims: dict, subject: str, username_claim: str):
    """The account SCIM provisioned for this person, if any: one the identity provider made (no password of
    its own, no single sign-on identity yet) whose externalId is the subject or whose userName is the
    username claim. A local account with a password is never taken over."""
    candidates = ScimUser.objects.select_related("user").filter(user__oidc_identity__isnull=True)
    by_subject = [scim.user for scim in candidates.filter(external_id=subject)]
    username = claim(claims, username_claim)
    by_name = (
        [scim.user for scim in candidates.filter(user__username__iexact=username.strip())]
        if isinstance(username, str) and username.strip()
        else []
    )
    for user in by_subject + by_name:
        if not user.has_usable_password():
            return user
    return None


def oidc_sign_in(*, issuer: str, claims: dict, groups_claim: str, username_claim: str) -> SignedIn:
    """The person the identity provider signed in as ``claims["sub"]`` of ``issuer``: found by that pair
    (never by email or username), created at the first sign-in (audited ``person.created``), refused if
    deactivated; their profile and last groups recorded, and the group mappings applied.

    The password is never touched (changing it would revoke the person's API tokens)."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("the ID token has no subject (sub)")
    groups = groups_from(claim(claims, groups_claim))
    users = get_user_model().objects
    access_group = getattr(settings, "OIDC_ACCESS_GROUP", "")
    if access_group and groups is None:  # nothing to check membership against: refused, nobody deactivated
        raise SignInRefused(f"no groups claim to find the access group {access_group!r} in", no_access=True)
    if access_group and access_group not in groups:
        # The identity provider no longer gives this person Gatehouse: deactivate the account it signs in
        # to (sessions end, tokens are revoked, open work is flagged), committed before the refusal.
        identity = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        if identity is not None and identity.user.is_active:
            try:
                person_deactivate(
                    actor=None,
                    user=identity.user,
                    reason=f"No longer in the identity provider's {access_group!r} group.",
                    source=MembershipSource.IDP,
                )
            except ValidationError as kept:  # e.g. the last governance admin: refused, but not deactivated
                log.warning("single sign-on: %s left %r but stays active: %s", identity.user, access_group, kept)
        raise SignInRefused(
            f"subject {subject} of {issuer} is not in the access group {access_group!r}", no_access=True
        )
    with transaction.atomic():
        lock_name("oidc-subject", f"{issuer}|{subject}")
        identity = OidcIdentity.objects.select_related("user").filter(issuer=issuer, subject=subject).first()
        created = identity is None
        profile = _profile(claims)
        if created and (provisioned := _provisioned_account(claims, subject, username_claim)) is not None:
            # The identity provider already provisioned this person over SCIM: the same person, one account.
            identity = OidcIdentity.objects.create(user=provisioned, issuer=issuer, subject=subject)
            audit_person(
                actor=None,
                action="person.sso_linked",
                person=provisioned,
                payload={"source": MembershipSource.IDP, "issuer": issuer},
            )
            log.info(
                "single sign-on: linked subject %s of %s to %s (provisioned over SCIM)",
                subject,
                issuer,
                provisioned.get_username(),
            )
        elif created:
            for _ in range(5):
                username = _new_username(claims, username_claim)
                try:
                    with transaction.atomic():
                        user = users.create_user(username, **profile)  # no usable password
                    break
                except IntegrityError:  # taken a moment ago by another first sign-in
                    continue
            else:
                raise SignInRefused("no free username could be made from the claims")
            identity = OidcIdentity.objects.create(user=user, issuer=issuer, subject=subject)
            audit_person(
                actor=None,
                action="person.created",
                person=user,
                payload={"source": MembershipSource.IDP, "issuer": issuer},
            )
            log.info("single sign-on: created %s for subject %s of %s", user.get_username(), subject, issuer)
        user = users.select_for_update().get(pk=identity.user_id)
        if not user.is_active:
            raise SignInRefused(f"{user.get_username()} is deactivated in Gatehouse", deactivated=True)
        changed = [name for name, value in profile.items() if value and getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, profile[name])
            user.save(update_fields=changed)
        identity.groups = groups or []
        identity.last_sign_in_at = timezone.now()
        identity.save(update_fields=["groups", "last_sign_in_at"])
        applied = group_mappings_apply(user=user, groups=groups or [])
    return SignedIn(user=user, created=created, groups=groups, applied=applied)


def break_glass_sign_in_record(*, user, address: str) -> None:
    """A password sign-in while password sign-in is off for everyone else: always in the trail."""
    with transaction.atomic():
        audit_person(
            actor=user,
            action="person.break_glass_sign_in",
            person=user,
            payload={"address": address},
        )
