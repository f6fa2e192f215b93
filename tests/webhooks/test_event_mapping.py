"""Each mapped audit action is really appended by the services (so a rename cannot silently stop a webhook),
and each becomes exactly one delivery per matching subscription: a journey through submit, approve,
reject, promote, roll back (from the feature and from an incident: one event each), open and resolve an
incident, a freshness sweep that opens findings, and a withdrawal."""

from datetime import timedelta

from django.utils import timezone

from approvals.models import SignOff
from approvals.services import signoff_decide
from freshness.models import SweepLock
from freshness.services import freshness_sweep
from incidents.services import incident_open, incident_rollback, incident_transition
from registry.models import AuditEvent, Evaluation
from registry.services import deployment_rollback, deployment_withdraw
from webhooks.choices import SUBSCRIBABLE_EVENTS, WebhookEvent
from webhooks.models import WebhookDelivery
from webhooks.outbox import ACTION_EVENTS, webhook_event_for


def journey(*, feature, eu, new_version, go_live, request_gate, product_owner, support_agent, security_reviewer):
    """Every kind of event once or more, through the services the pages and API call."""
    v1 = new_version(summary="First.")
    go_live(v1)
    v2 = new_version(summary="Second.")
    go_live(v2)
    deployment_rollback(
        actor=product_owner, feature=feature, environment="production", region=eu, reason="Complaints doubled."
    )
    rejected = request_gate(new_version(summary="Third."))
    signoff = SignOff.objects.filter(request=rejected, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="reject", reason="No threat model.")
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=feature.regions.get(code="us"),
        severity="sev2",
        impact_start=timezone.now() - timedelta(minutes=30),
        title="Wrong queue",
        description="Claims land in the wrong queue.",
    )
    incident_rollback(actor=support_agent, incident=incident, reason="Back to the version before.")
    incident_transition(actor=support_agent, incident=incident, status="investigating")
    incident_transition(actor=support_agent, incident=incident, status="resolved", note="Rolled back.")
    SweepLock.objects.get_or_create(pk=1)
    Evaluation.objects.filter(version=v1, kind="benchmark").update(run_at=timezone.now() - timedelta(days=200))
    freshness_sweep()
    deployment_withdraw(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        reason="The EU policy no longer allows it.",
    )
    return incident


def test_every_mapped_action_is_appended_and_becomes_one_delivery_per_event(
    subscribe,
    feature,
    eu,
    new_version,
    go_live,
    request_gate,
    product_owner,
    support_agent,
    security_reviewer,
):
    everything = subscribe()

    incident = journey(
        feature=feature,
        eu=eu,
        new_version=new_version,
        go_live=go_live,
        request_gate=request_gate,
        product_owner=product_owner,
        support_agent=support_agent,
        security_reviewer=security_reviewer,
    )

    appended = set(AuditEvent.objects.values_list("action", flat=True))
    assert set(ACTION_EVENTS) <= appended, f"never appended: {set(ACTION_EVENTS) - appended}"
    mapped = [event for event in AuditEvent.objects.order_by("sequence") if webhook_event_for(event)]
    deliveries = list(everything.deliveries.all())
    assert sorted((d.payload["audit"]["sequence"], d.event) for d in deliveries) == [
        (event.sequence, webhook_event_for(event)) for event in mapped
    ]
    # Every event an audited write can cause (the checkpoint comes from beat: tests/registry/test_audit_anchor.py).
    assert {d.event for d in deliveries} == set(SUBSCRIBABLE_EVENTS) - {WebhookEvent.AUDIT_CHECKPOINT}
    decisions = sorted(d.payload["audit"]["action"] for d in deliveries if d.event == WebhookEvent.APPROVAL_DECIDED)
    assert decisions == ["approval.approved", "approval.approved", "approval.rejected"]
    rollbacks = [d.payload["data"] for d in deliveries if d.event == WebhookEvent.DEPLOYMENT_ROLLED_BACK]
    assert sorted(str(data["incident"]) for data in rollbacks) == [str(incident.pk), "None"]
    resolved = [d for d in deliveries if d.event == WebhookEvent.INCIDENT_RESOLVED]
    assert len(resolved) == 1 and resolved[0].payload["data"]["status"] == ["investigating", "resolved"]


def test_the_payload_names_the_feature_the_object_the_actor_and_the_audit_event(
    subscribe, feature, new_version, ml_engineer
):
    everything = subscribe()

    version = new_version()

    delivery = everything.deliveries.get()
    event = AuditEvent.objects.get(action="version.submitted")
    assert delivery.payload == {
        "id": str(delivery.pk),
        "event": "version.submitted",
        "occurred_at": event.at.isoformat(),
        "feature": {
            "slug": "claims-triage",
            "name": feature.name,
            "url": "http://127.0.0.1:8000/features/claims-triage/",
        },
        "object": {"type": "featureversion", "id": str(version.pk), "repr": str(version)},
        "actor": ml_engineer.username,
        "data": event.payload,
        "audit": {"sequence": event.sequence, "hash": event.hash, "action": "version.submitted"},
    }
    assert WebhookDelivery.objects.get().status == "pending" and delivery.attempts == 0


def test_an_incident_that_is_not_resolved_or_an_unmapped_action_delivers_nothing(subscribe, feature, support_agent):
    everything = subscribe()
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=feature.regions.get(code="eu"),
        severity="sev3",
        impact_start=timezone.now() - timedelta(minutes=5),
        title="Slow",
        description="Slow answers.",
    )

    incident_transition(actor=support_agent, incident=incident, status="mitigated")

    assert [d.event for d in everything.deliveries.all()] == ["incident.opened"]
