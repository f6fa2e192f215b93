"""People: deactivation and reactivation, and signed-in sessions.

Deactivation (by governance on a page or the API, by SCIM, or by the identity provider mapping) takes
effect at once: the account is refused from the next request, every signed-in session is ended, every
API token is revoked (``registry.receivers``, in the same transaction, whatever the path: the admin's
save too), and the person's open work (sign-offs given on open requests, features and incidents they
own) is flagged on governance's dashboard (``identity.selectors.deactivated_people_with_open_work``,
through the ``home_panels`` extension point).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from registry import zones
from registry.choices import MembershipSource, Role
from registry.models import ApiToken, PersonSettings, UserSession
from registry.permissions import is_governance
from registry.services.audit import audit_person, audit_record


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_record(*, user, session_key: str, method: str = "", ip_address=None, user_agent: str = "") -> None:
    """Remember a new signed-in session (the sign-in signal calls this)."""
    if not session_key:
        return
    UserSession.objects.update_or_create(
        session_key=session_key,
        defaults={"user": user, "method": method[:20], "ip_address": ip_address, "user_agent": user_agent[:200]},
    )


def session_forget(session_key: str) -> None:
    UserSession.objects.filter(session_key=session_key).delete()


def sessions_live(user):
    """The person's sessions still alive in the session store (records of ended or expired ones are dropped).

    Alive means the store still gives the session's data: an expired session is kept by the database
    store until ``clearsessions`` runs, but loads as empty, as it does for the browser that holds it."""
    records = list(UserSession.objects.filter(user=user).order_by("-created_at"))
    alive = _alive(_session_store(), [record.session_key for record in records])
    dead = [record.pk for record in records if record.session_key not in alive]
    if dead:
        UserSession.objects.filter(pk__in=dead).delete()
    return [record for record in records if record.session_key in alive]


def _alive(store, keys: list[str]) -> set[str]:
    """The keys whose session ``store`` still gives data for. With the database store, one query for all
    of them (what its ``load`` reads: the row, not expired, whose data decodes to something); with any
    other store, each session is loaded."""
    from django.contrib.sessions.backends import cached_db, db

    if not keys:
        return set()
    if issubclass(store, db.SessionStore) and not issubclass(store, cached_db.SessionStore):
        decoder = store()
        rows = store.get_model_class().objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return {key for key, data in rows.values_list("session_key", "session_data") if decoder.decode(data)}
    return {key for key in keys if store(session_key=key).load()}


def _end(records) -> int:
    store = _session_store()
    for record in records:
        store(session_key=record.session_key).delete()
        record.delete()
    return len(records)


def session_end(*, actor, session: UserSession) -> None:
    """End one session: its owner ends their own, governance ends anyone's."""
    if not (actor.pk == session.user_id or is_governance(actor)):
        raise PermissionDenied("You can end only your own sessions.")
    with transaction.atomic():
        _end([session])
        audit_record(
            actor=actor,
            action="session.ended",
            object_type="user",
            object_id=session.user_id,
            payload={"user": session.user.get_username(), "started": session.created_at.isoformat()},
        )


def sessions_end_all(*, user, actor=None, keep: str = "") -> int:
    """End every session of ``user`` but ``keep`` (a session key). Returns how many ended.

    With an ``actor`` (a person signing out everywhere else, or governance ending someone's sessions) it
    is checked and audited; without one it is part of a change that audits itself (deactivation)."""
    if actor is not None:
        if not (actor.pk == user.pk or is_governance(actor)):
            raise PermissionDenied("You can end only your own sessions.")
        with transaction.atomic():
            ended = sessions_end_all(user=user, keep=keep)
            audit_person(
                actor=actor,
                action="session.ended_all",
                person=user,
                payload={"sessions_ended": ended, "kept_current": bool(keep)},
            )
        return ended
    records = list(UserSession.objects.filter(user=user).exclude(session_key=keep or None))
    # Sessions signed in before they were recorded: look for them in a database store, too.
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        recorded = {record.session_key for record in records} | {keep}
        for session in Session.objects.exclude(session_key__in=recorded).iterator():
            if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
                records.append(UserSession(session_key=session.session_key, user=user))
    return _end(records)


def _authorise(*, actor, user, source: str, what: str) -> None:
    if source == MembershipSource.IDP:
        if actor is not None:
            raise PermissionDenied("Identity provider decisions are applied at sign-in, not by a person.")
        return
    if not is_governance(actor):
        raise PermissionDenied(f"Only governance admins {what}.")
    if actor.pk == user.pk:
        raise PermissionDenied(f"You cannot {what.split(' ', 1)[0]} your own account; ask another admin.")


def person_deactivate(*, actor, user, reason: str = "", source: str = MembershipSource.MANUAL):
    """Deactivate ``user``: sessions end, tokens are revoked, open work is flagged. Idempotent."""
    _authorise(actor=actor, user=user, source=source, what="deactivate people")
    reason = (reason or "").strip()
    if source == MembershipSource.MANUAL and not reason:
        raise ValidationError({"reason": "Say why: the reason is kept in the audit trail."})
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not locked.is_active:
            return locked
        governance = Group.objects.filter(name=Role.GOVERNANCE).first()
        if governance and governance.user_set.filter(pk=locked.pk).exists():
            if not governance.user_set.filter(is_active=True).exclude(pk=locked.pk).exists():
                raise ValidationError("This is the last active governance admin: grant the role to someone else first.")
        live_tokens = ApiToken.objects.filter(user=locked, revoked_at__isnull=True).count()
        ended = sessions_end_all(user=locked)
        locked.is_active = False
        locked.save(update_fields=["is_active"])  # the token receiver revokes every token, audited
        audit_person(
            actor=actor,
            action="person.deactivated",
            person=locked,
            payload={
                "source": source,
                "reason": reason,
                "sessions_ended": ended,
                "tokens_revoked": live_tokens,
            },
        )
    user.is_active = False
    return locked


def person_reactivate(*, actor, user, reason: str = "", source: str = MembershipSource.MANUAL):
    """Let a deactivated person sign in again. Their tokens stay revoked; roles and teams are as they were."""
    _authorise(actor=actor, user=user, source=source, what="reactivate people")
    reason = (reason or "").strip()
    if source == MembershipSource.MANUAL and not reason:
        raise ValidationError({"reason": "Say why: the reason is kept in the audit trail."})
    with transaction.atomic():
        locked = get_user_model().objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            return locked
        locked.is_active = True
        locked.save(update_fields=["is_active"])
        audit_person(
            actor=actor,
            action="person.reactivated",
            person=locked,
            payload={"source": source, "reason": reason},
        )
    user.is_active = True
    return locked


def time_zone_of(user) -> str:
    """The zone a person's pages show times in: what they set on their account, UTC until they do."""
    found = PersonSettings.objects.filter(user_id=user.pk).values_list("time_zone", flat=True).first()
    return found or zones.DEFAULT


def time_zone_set(*, actor, user, time_zone: str) -> bool:
    """Set the zone a person's pages show times in. Only the person sets it. Returns whether it changed."""
    if actor.pk != user.pk:
        raise PermissionDenied("You can set only your own time zone.")
    if time_zone not in zones.choosable():
        raise ValidationError(
            {"time_zone": f"“{time_zone}” is not a time zone this server knows. Choose one from the list."}
        )
    with transaction.atomic():
        row, _created = PersonSettings.objects.select_for_update().get_or_create(user=user)
        if row.time_zone == time_zone:
            return False
        before = row.time_zone
        row.time_zone = time_zone
        row.save(update_fields=["time_zone"])
        audit_person(
            actor=actor,
            action="person.time_zone_set",
            person=user,
            payload={"changes": {"time_zone": [before, time_zone]}},
        )
    return True
