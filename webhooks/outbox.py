"""From the audit trail to webhook deliveries: the transactional outbox.

Every audited write passes ``audit_listener`` the events it appended, inside its transaction. Events
that map to a webhook event become ``WebhookDelivery`` rows in that same transaction, so a delivery
commits with its change or not at all; after the commit each is queued for sending. If queueing
fails (the broker is down) the row stays pending and the ``deliver_due`` sweep sends it.

Cost per call, however many events (the freshness sweep appends thousands at once): nothing when no
event maps; else one query for the active subscriptions, one for the events' features and one insert.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from registry.models import AIFeature, AuditEvent
from webhooks.choices import DeliveryStatus, WebhookEvent
from webhooks.models import WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)


class Mapping(NamedTuple):
    event: str
    applies: Callable[[dict], bool] | None = None  # a test of the audit payload, when the action alone is not enough


def _becomes_resolved(payload: dict) -> bool:
    status = payload.get("status")
    return isinstance(status, list) and status[-1:] == ["resolved"]


# Audit action -> webhook event. tests/webhooks/test_event_mapping.py proves each action is really appended.
# A rollback from an incident goes through deployment_rollback, which appends deployment.rolled_back
# (naming the incident); incident.rolled_back is left out, or one rollback would be delivered twice.
ACTION_EVENTS: dict[str, Mapping] = {
    "version.submitted": Mapping(WebhookEvent.VERSION_SUBMITTED),
    "approval.approved": Mapping(WebhookEvent.APPROVAL_DECIDED),
    "approval.rejected": Mapping(WebhookEvent.APPROVAL_DECIDED),
    "deployment.promoted": Mapping(WebhookEvent.DEPLOYMENT_PROMOTED),
    "deployment.rolled_back": Mapping(WebhookEvent.DEPLOYMENT_ROLLED_BACK),
    "deployment.withdrawn": Mapping(WebhookEvent.DEPLOYMENT_WITHDRAWN),
    "incident.opened": Mapping(WebhookEvent.INCIDENT_OPENED),
    "incident.status_changed": Mapping(WebhookEvent.INCIDENT_RESOLVED, _becomes_resolved),
    "freshness_finding.opened": Mapping(WebhookEvent.FINDING_OPENED),
}


def webhook_event_for(event: AuditEvent) -> str | None:
    mapping = ACTION_EVENTS.get(event.action)
    if mapping is None or (mapping.applies is not None and not mapping.applies(event.payload)):
        return None
    return mapping.event


def absolute_url(path: str) -> str:
    return settings.GATEHOUSE_BASE_URL.rstrip("/") + path


def event_payload(*, delivery_id, event_type: str, audit_event: AuditEvent, feature: dict | None) -> dict:
    """The JSON body a receiver gets. ``feature`` is ``{"slug", "name"}`` or None."""
    return {
        "id": str(delivery_id),
        "event": event_type,
        "occurred_at": audit_event.at.astimezone(UTC).isoformat(),
        "feature": feature
        and {
            "slug": feature["slug"],
            "name": feature["name"],
            "url": absolute_url(reverse("registry:feature_detail", args=[feature["slug"]])),
        },
        "object": {"type": audit_event.object_type, "id": audit_event.object_id, "repr": audit_event.object_repr},
        "actor": audit_event.actor_name,
        "data": audit_event.payload,
        # Ties the event to the tamper-evident trail: `manage.py audit_verify` proves this hash is in the chain.
        "audit": {"sequence": audit_event.sequence, "hash": audit_event.hash, "action": audit_event.action},
    }


def new_delivery(
    *, subscription_id: int, event_type: str, audit_event: AuditEvent, feature: dict | None, now
) -> WebhookDelivery:
    delivery_id = uuid.uuid4()
    return WebhookDelivery(
        id=delivery_id,
        subscription_id=subscription_id,
        event=event_type,
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
        payload=event_payload(delivery_id=delivery_id, event_type=event_type, audit_event=audit_event, feature=feature),
    )


def audit_listener(events: list[AuditEvent]) -> None:
    """Registered in ``WebhooksConfig.ready`` as a ``registry.extensions.audit_listeners`` hook."""
    mapped = [(event, event_type) for event in events if (event_type := webhook_event_for(event))]
    if not mapped:
        return
    wanted = {event_type for _, event_type in mapped}
    subscriptions = [
        subscription
        for subscription in WebhookSubscription.objects.filter(active=True).only("id", "team_id", "events")
        if wanted.intersection(subscription.events)
    ]
    if not subscriptions:
        return
    features = {
        row["id"]: row
        for row in AIFeature.objects.filter(
            pk__in={event.feature_id for event, _ in mapped if event.feature_id}
        ).values("id", "slug", "name", "team_id")
    }
    now = timezone.now()
    rows = []
    for event, event_type in mapped:
        feature = features.get(event.feature_id)
        for subscription in subscriptions:
            # A team's subscription gets its own team's features and nothing else: restricted features
            # of other teams never reach it. Events without a feature go to the global ones only.
            in_scope = subscription.team_id is None or (
                feature is not None and feature["team_id"] == subscription.team_id
            )
            if event_type in subscription.events and in_scope:
                rows.append(
                    new_delivery(
                        subscription_id=subscription.pk,
                        event_type=event_type,
                        audit_event=event,
                        feature=feature,
                        now=now,
                    )
                )
    if rows:
        WebhookDelivery.objects.bulk_create(rows)
        queue_on_commit([row.pk for row in rows])


def queue_on_commit(delivery_ids) -> None:
    """After the commit, queue a send of each delivery, without waiting on the broker
    (``core.queueing``). A failure to queue is logged, never raised: the row stays due and the
    ``deliver_due`` sweep sends it. (Outside a transaction: at once.)"""
    delivery_ids = [str(pk) for pk in delivery_ids]

    def send() -> None:
        from core.queueing import enqueue
        from webhooks.tasks import deliver_webhook

        for pk in delivery_ids:
            # Never waits on a down broker (one attempt, then the rest are skipped for a while).
            enqueue(deliver_webhook, (pk,), what=f"webhook delivery {pk} (the deliver_due sweep sends it)")

    transaction.on_commit(send)


def checkpoint_payload(*, delivery_id, checkpoint) -> dict:
    """The body of an ``audit.checkpoint`` delivery: the signed checkpoint, as the anchor file has it."""
    return {
        "id": str(delivery_id),
        "event": WebhookEvent.AUDIT_CHECKPOINT,
        "occurred_at": checkpoint.at,
        "feature": None,
        "object": {
            "type": "auditcheckpoint",
            "id": str(checkpoint.sequence),
            "repr": f"checkpoint at #{checkpoint.sequence}",
        },
        "actor": "system",
        "data": checkpoint.as_dict(),
        "audit": {"sequence": checkpoint.sequence, "hash": checkpoint.head_hash, "action": "audit.checkpoint"},
    }


def checkpoint_listener(checkpoint) -> None:
    """Registered in ``WebhooksConfig.ready`` as a ``registry.extensions.checkpoint_listeners`` hook: one
    delivery per active global subscription that asked for ``audit.checkpoint`` (a team's subscription
    gets its team's features only; the chain is everybody's)."""
    subscriptions = [
        subscription.pk
        for subscription in WebhookSubscription.objects.filter(active=True, team__isnull=True).only("id", "events")
        if WebhookEvent.AUDIT_CHECKPOINT in subscription.events
    ]
    if not subscriptions:
        return
    now = timezone.now()
    rows = []
    for subscription_id in subscriptions:
        delivery_id = uuid.uuid4()
        rows.append(
            WebhookDelivery(
                id=delivery_id,
                subscription_id=subscription_id,
                event=WebhookEvent.AUDIT_CHECKPOINT,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
                payload=checkpoint_payload(delivery_id=delivery_id, checkpoint=checkpoint),
            )
        )
    WebhookDelivery.objects.bulk_create(rows)
    queue_on_commit([row.pk for row in rows])
