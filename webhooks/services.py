"""Every write of the webhooks app a person makes: subscriptions (create, update, rotate the secret,
delete), a test ping and a redelivery. Each checks the actor's right, locks what it changes and appends
its audit event last, in the same transaction. Sending is in ``webhooks.delivery``.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from registry.models import Team
from registry.services import audit_record, audit_record_many
from registry.services.audit import changes
from webhooks.choices import OPEN_STATUSES, SUBSCRIBABLE_EVENTS, DeliveryStatus, WebhookEvent
from webhooks.destinations import literal_host_refusal
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.outbox import new_delivery, queue_on_commit
from webhooks.permissions import can_manage_webhooks_of, require_manager

UNSET = object()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _clean_target_url(url: str) -> str:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"target_url": "Enter a full http(s) URL, e.g. https://hooks.example.com/in."}) from None
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ValidationError({"target_url": "Put no credentials in the URL: every delivery is signed instead."})
    if parts.scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        raise ValidationError({"target_url": "Use https: plain http would send events and signatures in clear."})
    # A literal address or localhost only: names are resolved (and checked) at each delivery, not here.
    if refusal := literal_host_refusal(parts.hostname):
        raise ValidationError({"target_url": refusal})
    return url


def _clean_events(events) -> list[str]:
    chosen = list(dict.fromkeys(events or []))
    unknown = [event for event in chosen if event not in SUBSCRIBABLE_EVENTS]
    if unknown:
        raise ValidationError({"events": f"Unknown event type: {', '.join(map(str, unknown))}."})
    if not chosen:
        raise ValidationError({"events": "Choose at least one event."})
    return [event for event in SUBSCRIBABLE_EVENTS if event in chosen]  # in the documented order


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Name it after its receiver, e.g. release-bot."})
    return name[:120]


_CLEANERS = {"name": _clean_name, "target_url": _clean_target_url, "events": _clean_events}


def _cleaned(**fields) -> dict:
    """The given fields cleaned, or every field's error at once."""
    cleaned, errors = {}, {}
    for field, value in fields.items():
        try:
            cleaned[field] = _CLEANERS[field](value)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock(subscription: WebhookSubscription) -> WebhookSubscription:
    """FOR NO KEY UPDATE: the audit listener of any concurrent change inserts deliveries for this row after the
    chain lock, and each insert takes a key-share lock on it (the foreign key check); a full FOR UPDATE here,
    then the wait for the chain, would deadlock with it. Every webhook write locks its subscription first."""
    return (
        WebhookSubscription.objects.select_for_update(no_key=True, of=("self",))
        .select_related("team")
        .get(pk=subscription.pk)
    )


def _settings(subscription: WebhookSubscription) -> dict:
    """What the audit trail records of a subscription (never the secret: only its first characters)."""
    return {
        "name": subscription.name,
        "target_url": subscription.target_url,
        "events": subscription.events,
        "team": subscription.team.slug if subscription.team_id else None,
        "active": subscription.active,
        "secret_prefix": subscription.secret_prefix,
    }


def subscription_create(
    *, actor, name: str, target_url: str, events, team: Team | None = None, active: bool = True
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its secret, to show once."""
    if not can_manage_webhooks_of(actor, team.pk if team else None):
        raise PermissionDenied(
            "Only governance admins create webhooks for every feature; product owners and ML engineers "
            "create them for their own teams."
        )
    subscription = WebhookSubscription(
        **_cleaned(name=name, target_url=target_url, events=events),
        team=team,
        active=active,
        secret=new_secret(),
        created_by=actor,
    )
    with transaction.atomic():
        subscription.full_clean()
        subscription.save()
        audit_record(actor=actor, action="webhook.created", target=subscription, payload=_settings(subscription))
    return subscription, subscription.secret


def subscription_update(
    *, actor, subscription: WebhookSubscription, name=UNSET, target_url=UNSET, events=UNSET, active=UNSET
) -> WebhookSubscription:
    """Change what is given (disable or enable with ``active``). The team never changes: create another."""
    require_manager(actor, subscription)
    given = {"name": name, "target_url": target_url, "events": events}
    cleaned = _cleaned(**{field: value for field, value in given.items() if value is not UNSET})
    with transaction.atomic():
        locked = _lock(subscription)
        before = _settings(locked)
        for field, value in cleaned.items():
            setattr(locked, field, value)
        if active is not UNSET:
            locked.active = bool(active)
        changed = changes(before, _settings(locked))
        if not changed:
            return locked
        locked.full_clean()
        locked.save()
        audit_record(actor=actor, action="webhook.updated", target=locked, payload=changed)
    return locked


def subscription_rotate_secret(*, actor, subscription: WebhookSubscription) -> tuple[WebhookSubscription, str]:
    """A new secret at once: deliveries from now on (retries included) are signed with it."""
    require_manager(actor, subscription)
    with transaction.atomic():
        locked = _lock(subscription)
        previous = locked.secret_prefix
        locked.secret = new_secret()
        locked.secret_rotated_at = timezone.now()
        locked.save(update_fields=["secret", "secret_rotated_at", "updated_at"])
        audit_record(
            actor=actor,
            action="webhook.secret_rotated",
            target=locked,
            payload={"secret_prefix": [previous, locked.secret_prefix]},
        )
    return locked, locked.secret


def subscription_delete(*, actor, subscription: WebhookSubscription) -> None:
    """Deletes its delivery log too (pending deliveries are never sent); the audit trail keeps the record.

    The one write whose audit event comes before its change: a DELETE locks the row FOR UPDATE, which
    would block a concurrent change's delivery insert (holding the chain) while this waits for the chain.
    Holding the chain first, no such insert is in flight, and the rows to delete are locked by nobody who
    waits for it (the sender's claims are short; the subscription's other writers queue behind ``_lock``).
    """
    require_manager(actor, subscription)
    with transaction.atomic():
        locked = _lock(subscription)
        audit_record_many(
            [
                {
                    "actor": actor,
                    "action": "webhook.deleted",
                    "object_type": "webhooksubscription",
                    "object_id": locked.pk,
                    "object_repr": str(locked),
                    "payload": {**_settings(locked), "deliveries": locked.deliveries.count()},
                }
            ]
        )
        locked.delete()


def subscription_ping(*, actor, subscription: WebhookSubscription) -> WebhookDelivery:
    """Send a ``ping`` event to this subscription alone (disabled ones too: test before enabling)."""
    require_manager(actor, subscription)
    with transaction.atomic():
        locked = _lock(subscription)
        event = audit_record(
            actor=actor, action="webhook.pinged", target=locked, payload={"target_url": locked.target_url}
        )
        delivery = new_delivery(
            subscription_id=locked.pk, event_type=WebhookEvent.PING, audit_event=event, feature=None, now=timezone.now()
        )
        delivery.save(force_insert=True)
        queue_on_commit([delivery.pk])
    return delivery


def delivery_redeliver(*, actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a finished delivery again, as a new round of attempts (same id and payload, so a receiver can
    tell it is the same event), or a retrying one now instead of later."""
    require_manager(actor, delivery.subscription)
    with transaction.atomic():
        _lock(delivery.subscription)  # the lock order of every webhook write (a delete holds it while it deletes)
        locked = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status == DeliveryStatus.DELIVERING:
            raise Conflict("It is being sent right now; look again in a few seconds.")
        previous = locked.status
        if locked.status not in OPEN_STATUSES:
            locked.status, locked.attempts, locked.delivered_at = DeliveryStatus.PENDING, 0, None
        locked.next_attempt_at = timezone.now()
        locked.save(update_fields=["status", "attempts", "delivered_at", "next_attempt_at"])
        audit_record_many(
            [
                {
                    "actor": actor,
                    "action": "webhook_delivery.redelivered",
                    "object_type": "webhookdelivery",
                    "object_id": locked.pk,
                    "object_repr": f"{locked.event} to {delivery.subscription}",
                    "payload": {
                        "subscription": locked.subscription_id,
                        "event": locked.event,
                        "status": [previous, locked.status],
                    },
                }
            ]
        )
        queue_on_commit([locked.pk])
    return locked
