"""Audit checkpoints go out on the webhook stream (``audit.checkpoint``), to global subscriptions that ask for
them: a copy of the chain's signed head that the database's writers cannot take back."""

from registry.services.audit import audit_keys, checkpoint_signature
from registry.services.audit_checkpoint import audit_checkpoint_take
from tests.registry.test_audit_chain import prompt_write
from webhooks.choices import WebhookEvent
from webhooks.models import WebhookDelivery


def test_a_checkpoint_is_queued_for_global_subscriptions_that_asked_for_it(
    subscribe, ml_engineer, team, django_capture_on_commit_callbacks
):
    wanted = subscribe(events=[WebhookEvent.AUDIT_CHECKPOINT])
    subscribe(events=[WebhookEvent.INCIDENT_OPENED])  # did not ask
    subscribe(events=[WebhookEvent.AUDIT_CHECKPOINT], team=team)  # a team's: its features only
    prompt_write(ml_engineer)

    checkpoint, _ = audit_checkpoint_take()

    delivery = WebhookDelivery.objects.get(event=WebhookEvent.AUDIT_CHECKPOINT)
    assert delivery.subscription == wanted
    assert delivery.payload["data"] == checkpoint.as_dict()
    assert delivery.payload["audit"] == {
        "sequence": checkpoint.sequence,
        "hash": checkpoint.head_hash,
        "action": "audit.checkpoint",
    }
    data = delivery.payload["data"]
    signed = {key: data[key] for key in ("sequence", "head_hash", "at", "key_id")}
    assert checkpoint_signature(signed, key=audit_keys().keys[data["key_id"]]) == data["signature"]
