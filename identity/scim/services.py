"""SCIM's writes: people and groups as the identity provider provisions them.

Every change goes through the registry's audited services, as the SCIM token's user (a governance
admin) and with the SCIM membership source:

- a person is created with no usable password (they sign in through the identity provider), updated,
  deactivated with ``person_deactivate`` (sessions end, API tokens are revoked, open work is flagged on
  governance's dashboard) and reactivated with ``person_reactivate``, when the provider's ``active``
  changes (so a deactivation by governance survives pushes that repeat ``active: true``). Deleting a person over SCIM
  deactivates the account and hides it from SCIM; the account stays, since the audit trail names it;
- a group's members get what the group mappings of its name give (``GroupMapping.group_name`` equals
  the group's ``displayName``), through ``role_grant``/``role_revoke`` and ``team_member_add``/
  ``team_member_remove`` with the SCIM source. What SCIM gives, SCIM takes back: a role or team held
  for another reason (granted by hand, or by the sign-in mapping) stays when the person leaves the group.

Grants the registry refuses (nobody grants themselves a role, so not the token's own user; the last
governance admin keeps the role; a deactivated person gets nothing until reactivated) are left out,
logged, and named in the audit event of the change, and tried again at the next change.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import Conflict
from identity.models import ScimGroup, ScimUser
from identity.scim.resources import InvalidValue, scim_id_for
from identity.services import held_through, mapped_grants
from registry.choices import MembershipSource
from registry.permissions import is_governance
from registry.services import (
    audit_person,
    audit_record,
    person_deactivate,
    person_reactivate,
    role_grant,
    role_revoke,
    team_member_add,
    team_member_remove,
)

logger = logging.getLogger("identity.scim")

SCIM = MembershipSource.SCIM
DEACTIVATED = "Deactivated by the identity provider (SCIM)"
REACTIVATED = "Reactivated by the identity provider (SCIM)"
DEPROVISIONED = "Deleted by the identity provider (SCIM)"
MAX_TEXT = 500
MAX_EMAILS = 20
MAX_MEMBERS = 10_000


def _require_governance(actor) -> None:
    if not is_governance(actor):
        raise PermissionDenied("Only a governance admin's SCIM token provisions people and groups.")


# --- People -----------------------------------------------------------------------------------------


@dataclass
class Person:
    """What the identity provider says of a person (``identity.scim.resources.person_fields``), checked."""

    user_name: str
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    active: bool | None = None
    external_id: str = ""
    attributes: dict = field(default_factory=dict)


def _no_nul(value, where: str) -> None:
    """PostgreSQL stores no NUL character in text or JSON: refuse it plainly."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            raise ValidationError({where: "A NUL character (\\u0000) cannot be stored."})
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _clean_person(fields: dict) -> Person:
    person = Person(**fields)
    person.user_name = (person.user_name or "").strip()
    if not person.user_name:
        raise ValidationError({"userName": "Give the person a userName."})
    if len(person.user_name) > 150:
        raise ValidationError({"userName": "A userName has at most 150 characters."})
    try:
        UnicodeUsernameValidator()(person.user_name)
    except ValidationError:
        raise ValidationError(
            {"userName": "A userName has letters, digits and @ . + - _ only (an email address is fine)."}
        ) from None
    for key, value, limit in (
        ("name.givenName", person.given_name, 150),
        ("name.familyName", person.family_name, 150),
        ("externalId", person.external_id, 255),
    ):
        if len(value) > limit:
            raise ValidationError({key: f"At most {limit} characters."})
    for key in ("formatted", "displayName"):
        if len(person.attributes.get(key, "")) > MAX_TEXT:
            raise ValidationError({key: f"At most {MAX_TEXT} characters."})
    emails = person.attributes.get("emails") or []
    if len(emails) > MAX_EMAILS:
        raise ValidationError({"emails": f"At most {MAX_EMAILS} email addresses."})
    for entry in emails:
        address = entry.get("value") or ""
        if len(address) > 254:
            raise ValidationError({"emails": "An email address has at most 254 characters."})
        try:
            EmailValidator()(address)
        except ValidationError:
            raise ValidationError({"emails": f"{address[:80]!r} is not an email address."}) from None
        if len(str(entry.get("type") or "")) > 40:
            raise ValidationError({"emails.type": "At most 40 characters."})
    _no_nul([person.user_name, person.given_name, person.family_name, person.external_id], "userName")
    _no_nul(person.attributes, "attributes")
    return person


def _username_taken(user_name: str, *, other_than=None) -> bool:
    users = get_user_model().objects.filter(username__iexact=user_name)
    if other_than is not None:
        users = users.exclude(pk=other_than.pk)
    return users.exists()


def scim_links(users) -> dict[int, ScimUser]:
    """The ``ScimUser`` of each account, made for those SCIM shows for the first time.

    Not a change to the person (no audit event): it fixes the id SCIM knows them by, derived from the
    account, so two requests showing the same account at once agree on it."""
    users = list(users)
    links = {link.user_id: link for link in ScimUser.objects.filter(user__in=users)}
    missing = [ScimUser(user=user, scim_id=scim_id_for(user.pk)) for user in users if user.pk not in links]
    if missing:
        ScimUser.objects.bulk_create(missing, ignore_conflicts=True)
        links.update((link.user_id, link) for link in ScimUser.objects.filter(user__in=[link.user for link in missing]))
    return links


def scim_user_create(*, actor, fields: dict) -> ScimUser:
    """Provision a person. A person deleted over SCIM before, under the same userName, comes back: the same
    account, reactivated if ``active`` is not false."""
    _require_governance(actor)
    person = _clean_person(fields)
    user_model = get_user_model()
    with transaction.atomic():
        existing = user_model.objects.select_for_update().filter(username__iexact=person.user_name).first()
        if existing is not None:
            link = ScimUser.objects.select_for_update().filter(user=existing).first()
            if link is None or link.deprovisioned_at is None:
                raise Conflict(f"A person with the userName {person.user_name!r} already exists.")
            link.deprovisioned_at = None
            link.save(update_fields=["deprovisioned_at", "updated_at"])
            audit_person(
                actor=actor,
                action="person.provisioned",
                person=existing,
                payload={"source": SCIM, "again": True},
            )
            if person.active is None:
                person.active = True
            return _update(actor, link, person)
        user = user_model(
            username=person.user_name,
            first_name=person.given_name,
            last_name=person.family_name,
            email=person.email,
            is_active=person.active is not False,
        )
        user.set_unusable_password()  # they sign in through the identity provider
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:
            raise Conflict(f"A person with the userName {person.user_name!r} already exists.") from None
        link = ScimUser.objects.create(
            user=user,
            scim_id=scim_id_for(user.pk),
            external_id=person.external_id,
            attributes=person.attributes,
            provider_active=user.is_active,
        )
        audit_person(
            actor=actor,
            action="person.provisioned",
            person=user,
            payload={
                "source": SCIM,
                "external_id": person.external_id,
                "active": user.is_active,
            },
        )
    return link


def scim_user_update(*, actor, link: ScimUser, fields: dict) -> ScimUser:
    """Make the person what the identity provider now says (a replacement, or the result of a patch).

    ``active`` None leaves the account's state as it is. The account is deactivated when the provider's
    ``active`` turns false, and reactivated when it turns true, relative to what the provider said last
    (for an account it has not spoken of yet, the account's own state)."""
    _require_governance(actor)
    person = _clean_person(fields)
    with transaction.atomic():
        return _update(actor, link, person)


def _update(actor, link: ScimUser, person: Person) -> ScimUser:
    user = get_user_model().objects.select_for_update().get(pk=link.user_id)
    link = ScimUser.objects.select_for_update().get(pk=link.pk)
    if user.get_username() != person.user_name and _username_taken(person.user_name, other_than=user):
        raise Conflict(f"A person with the userName {person.user_name!r} already exists.")
    changes = {}
    for attr, new in (
        ("username", person.user_name),
        ("first_name", person.given_name),
        ("last_name", person.family_name),
        ("email", person.email),
    ):
        if getattr(user, attr) != new:
            changes[attr] = [getattr(user, attr), new]
            setattr(user, attr, new)
    if changes:
        try:
            with transaction.atomic():
                user.save(update_fields=list(changes))
        except IntegrityError:
            raise Conflict(f"A person with the userName {person.user_name!r} already exists.") from None
    if link.external_id != person.external_id:
        changes["external_id"] = [link.external_id, person.external_id]
        link.external_id = person.external_id
    changed_attributes = sorted(
        key
        for key in set(link.attributes or {}) | set(person.attributes)
        if (link.attributes or {}).get(key) != person.attributes.get(key)
    )
    link.attributes = person.attributes
    if changes or changed_attributes:
        link.save(update_fields=["external_id", "attributes", "updated_at"])
        audit_person(
            actor=actor,
            action="person.updated",
            person=user,
            payload={
                "source": SCIM,
                "changes": changes,
                "attributes": changed_attributes,
            },
        )
    # Last: deactivation ends sessions and revokes tokens, each audited by the registry. Gatehouse acts on
    # what the identity provider changes, not on what it repeats: a person governance deactivated by hand
    # stays deactivated when the provider pushes 'active: true' again, until the provider itself turns them
    # off and on (or governance reactivates them).
    said_before = user.is_active if link.provider_active is None else link.provider_active
    if person.active is not None and person.active != link.provider_active:
        link.provider_active = person.active
        link.save(update_fields=["provider_active", "updated_at"])
    if person.active is False and said_before is not False and user.is_active:
        person_deactivate(actor=actor, user=user, reason=DEACTIVATED, source=SCIM)
    elif person.active is True and said_before is not True and not user.is_active:
        person_reactivate(actor=actor, user=user, reason=REACTIVATED, source=SCIM)
        _sync_grants(actor, user)  # what their groups give, held back while they were deactivated
    link.user = user
    return link


def scim_user_delete(*, actor, link: ScimUser) -> None:
    """Delete over SCIM: out of every SCIM group (with what those gave), deactivated, hidden from SCIM.

    The account stays: the audit trail, sign-offs and features name it."""
    _require_governance(actor)
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=link.user_id)
        link = ScimUser.objects.select_for_update().get(pk=link.pk)
        if link.deprovisioned_at is not None:
            return
        groups = list(ScimGroup.objects.select_for_update().filter(members=user).order_by("pk"))
        for group in groups:
            group.members.remove(user)
        skipped = _sync_grants(actor, user)
        if user.is_active:
            person_deactivate(actor=actor, user=user, reason=DEPROVISIONED, source=SCIM)
        link.deprovisioned_at, link.provider_active = timezone.now(), False
        link.save(update_fields=["deprovisioned_at", "provider_active", "updated_at"])
        audit_person(
            actor=actor,
            action="person.deprovisioned",
            person=user,
            payload={
                "source": SCIM,
                "groups": [group.display_name for group in groups],
                **({"skipped": skipped} if skipped else {}),
            },
        )


# --- Groups -----------------------------------------------------------------------------------------


def _clean_group_name(display_name: str) -> str:
    name = (display_name or "").strip()
    if not name:
        raise ValidationError({"displayName": "Give the group a displayName."})
    if len(name) > 200:
        raise ValidationError({"displayName": "A displayName has at most 200 characters."})
    _no_nul(name, "displayName")
    return name


def _clean_external_id(external_id: str) -> str:
    if len(external_id or "") > 255:
        raise ValidationError({"externalId": "At most 255 characters."})
    _no_nul(external_id or "", "externalId")
    return external_id or ""


def _members(member_ids) -> list:
    """The accounts the SCIM ids name, in order, each once. An id no person has is refused."""
    ids = []
    for raw in dict.fromkeys(member_ids):
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            raise InvalidValue(f"No person has the id {str(raw)[:80]!r}.") from None
    if len(ids) > MAX_MEMBERS:
        raise InvalidValue(f"A group has at most {MAX_MEMBERS} members.")
    links = {
        link.scim_id: link.user
        for link in ScimUser.objects.select_related("user").filter(scim_id__in=ids, deprovisioned_at__isnull=True)
    }
    unknown = [str(scim_id) for scim_id in ids if scim_id not in links]
    if unknown:
        raise InvalidValue(f"No person has the id {unknown[0]!r}.")
    return [links[scim_id] for scim_id in ids]


def _name_taken(display_name: str, *, other_than=None) -> bool:
    groups = ScimGroup.objects.filter(display_name__iexact=display_name)
    if other_than is not None:
        groups = groups.exclude(pk=other_than.pk)
    return groups.exists()


def scim_group_create(*, actor, display_name: str, external_id: str = "", member_ids=()) -> ScimGroup:
    _require_governance(actor)
    name = _clean_group_name(display_name)
    external_id = _clean_external_id(external_id)
    with transaction.atomic():
        members = _members(member_ids)
        if _name_taken(name):
            raise Conflict(f"A group named {name!r} already exists.")
        group = ScimGroup(display_name=name, external_id=external_id)
        try:
            with transaction.atomic():
                group.save()
        except IntegrityError:
            raise Conflict(f"A group named {name!r} already exists.") from None
        group.members.set(members)
        skipped = [note for user in members for note in _sync_grants(actor, user)]
        audit_record(
            actor=actor,
            action="scim_group.created",
            target=group,
            payload={
                "display_name": name,
                "external_id": external_id,
                "members": [user.get_username() for user in members],
                **({"skipped": skipped} if skipped else {}),
            },
        )
    return group


def scim_group_update(*, actor, group: ScimGroup, display_name: str, external_id: str = "", member_ids=()):
    """Make the group what the identity provider now says: its name, external id and members."""
    _require_governance(actor)
    name = _clean_group_name(display_name)
    external_id = _clean_external_id(external_id)
    with transaction.atomic():
        locked = ScimGroup.objects.select_for_update().get(pk=group.pk)
        members = _members(member_ids)
        if name != locked.display_name and _name_taken(name, other_than=locked):
            raise Conflict(f"A group named {name!r} already exists.")
        before = {user.pk: user for user in locked.members.all()}
        after = {user.pk: user for user in members}
        added = [user for pk, user in after.items() if pk not in before]
        removed = [user for pk, user in before.items() if pk not in after]
        renamed = name != locked.display_name
        if not (renamed or added or removed or external_id != locked.external_id):
            return locked
        payload = {"display_name": name}
        if renamed:
            payload["renamed_from"] = locked.display_name
        if external_id != locked.external_id:
            payload["external_id"] = [locked.external_id, external_id]
        locked.display_name, locked.external_id = name, external_id
        try:
            with transaction.atomic():
                locked.save()
        except IntegrityError:
            raise Conflict(f"A group named {name!r} already exists.") from None
        locked.members.remove(*removed)
        locked.members.add(*added)
        # A new name may match other mappings: everyone in the group, before or after, gets what it gives now.
        affected = {**before, **after} if renamed else {user.pk: user for user in (*added, *removed)}
        skipped = [note for _pk, user in sorted(affected.items()) for note in _sync_grants(actor, user)]
        audit_record(
            actor=actor,
            action="scim_group.updated",
            target=locked,
            payload={
                **payload,
                "added": [user.get_username() for user in added],
                "removed": [user.get_username() for user in removed],
                **({"skipped": skipped} if skipped else {}),
            },
        )
    return locked


def scim_group_delete(*, actor, group: ScimGroup) -> None:
    """The group goes; its members lose what it gave them (and keep what they hold for other reasons)."""
    _require_governance(actor)
    with transaction.atomic():
        locked = ScimGroup.objects.select_for_update().get(pk=group.pk)
        members = list(locked.members.all())
        locked.members.clear()
        skipped = [note for user in members for note in _sync_grants(actor, user)]
        audit_record(
            actor=actor,
            action="scim_group.deleted",
            target=locked,
            payload={
                "display_name": locked.display_name,
                "members": [user.get_username() for user in members],
                **({"skipped": skipped} if skipped else {}),
            },
        )
        locked.delete()


# --- What the groups give ----------------------------------------------------------------------------


def _sync_grants(actor, user) -> list[str]:
    """Grant ``user`` what the mappings of their SCIM groups give, revoke what SCIM gave that they no longer
    give. Returns what the registry refused, in sentences (the change goes on without it)."""
    names = ScimGroup.objects.filter(members=user).values_list("display_name", flat=True)
    want_roles, want_teams = mapped_grants(names, order_by="pk")
    held_roles, held_teams = held_through(user, SCIM)

    refused = []

    def attempt(what: str, call, **kwargs) -> None:
        try:
            call(actor=actor, user=user, source=SCIM, **kwargs)
        except (PermissionDenied, ValidationError) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            note = f"{user.get_username()}: {what} not applied: {message}"
            logger.warning("SCIM: %s", note)
            refused.append(note)

    for role, group_name in sorted(want_roles.items()):
        if role not in held_roles and user.is_active:
            reason = f"In the identity provider's group {group_name!r} (SCIM)."
            attempt(f"role {role}", role_grant, role=role, reason=reason)
    for role in sorted(held_roles - set(want_roles)):
        reason = "No longer in an identity provider group that gives this role (SCIM)."
        attempt(f"role {role} kept", role_revoke, role=role, reason=reason)
    for team_id, (team, group_name) in sorted(want_teams.items()):
        if team_id not in held_teams and user.is_active:
            reason = f"In the identity provider's group {group_name!r} (SCIM)."
            attempt(f"team {team.slug}", team_member_add, team=team, reason=reason)
    for team_id, team in sorted(held_teams.items()):
        if team_id not in want_teams:
            reason = "No longer in an identity provider group that gives this team (SCIM)."
            attempt(f"team {team.slug} kept", team_member_remove, team=team, reason=reason)
    return refused
