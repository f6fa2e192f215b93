"""The deliveries are a transactional outbox: written in the change's transaction (a rolled-back change
leaves none), sent after the commit, and never lost when queueing fails: the every-minute sweep sends
what is due. The audit listener costs nothing for events that map to no webhook, and a fixed number of
queries for a bulk append, whatever its size."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from core import queueing
from freshness.models import SweepLock
from freshness.services import freshness_sweep
from registry import extensions
from registry.services import audit_record, team_create
from tests.freshness.world import crowd
from tests.webhooks.conftest import events_delivered
from webhooks import tasks
from webhooks.choices import WebhookEvent
from webhooks.models import WebhookDelivery
from webhooks.outbox import audit_listener


class Boom(Exception):
    pass


def broker_down(*args, **kwargs):
    raise OSError("broker unreachable")


def test_a_change_that_rolls_back_leaves_no_delivery_and_sends_nothing(
    subscribe,
    receiver,
    new_version,
    django_capture_on_commit_callbacks,
):
    subscribe()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            new_version()
            assert WebhookDelivery.objects.count() == 1  # written with the change...
            raise Boom

    assert WebhookDelivery.objects.count() == 0  # ...and gone with it
    assert callbacks == [] and receiver.requests == []


def test_a_committed_change_is_sent_after_the_commit(
    subscribe, receiver, new_version, django_capture_on_commit_callbacks
):
    subscribe()

    with django_capture_on_commit_callbacks(execute=True):
        new_version()

    assert [request.headers["X-Gatehouse-Event"] for request in receiver.requests] == ["version.submitted"]
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_when_queueing_fails_the_change_commits_and_the_sweep_sends_the_delivery_later(
    subscribe,
    receiver,
    new_version,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    subscribe()
    conf = tasks.deliver_webhook.app.conf
    with monkeypatch.context() as patched:
        patched.setattr(tasks.deliver_webhook, "apply_async", broker_down)
        conf.task_always_eager = False  # sent to the broker, which refuses
        try:
            with django_capture_on_commit_callbacks(execute=True):
                version = new_version()
        finally:
            conf.task_always_eager = True
            queueing.reset()

    assert version.status == "submitted"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and receiver.requests == []

    with django_capture_on_commit_callbacks(execute=True):  # the sweep queues on commit (at once, in a worker)
        assert tasks.deliver_due.delay().get() == 1

    assert [request.headers["X-Gatehouse-Delivery"] for request in receiver.requests] == [str(delivery.pk)]
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert tasks.deliver_due.delay().get() == 0  # nothing left to send


def test_events_that_map_to_no_webhook_cost_the_listener_no_query(subscribe, governance_admin):
    subscribe()

    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        team_create(actor=governance_admin, slug="search", name="Search")

    assert not [query for query in captured.captured_queries if "webhooks_" in query["sql"]]
    assert WebhookDelivery.objects.count() == 0


def test_a_mapped_event_without_subscriptions_costs_one_query(governance_admin):
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        audit_record(actor=governance_admin, action="incident.opened", object_type="incident", object_id=1)

    assert len([query for query in captured.captured_queries if "webhooks_" in query["sql"]]) == 1


def test_a_sweep_opening_findings_costs_the_listener_3_queries_for_2_as_for_12_features(subscribe, monkeypatch):
    SweepLock.objects.get_or_create(pk=1)
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    hook = subscribe(events=[WebhookEvent.FINDING_OPENED])
    freshness_sweep()  # warm per-process caches
    counts = []

    def counted(events):
        with CaptureQueriesContext(connection) as captured:
            audit_listener(events)
        counts.append(len(captured.captured_queries))

    monkeypatch.setattr(
        extensions,
        "audit_listeners",
        [counted if listener is audit_listener else listener for listener in extensions.audit_listeners],
    )
    for n, prefix in ((2, "small"), (12, "large")):
        crowd(n, prefix=prefix)
        freshness_sweep()

    assert counts == [3, 3]  # the subscriptions, the events' features, one insert of all deliveries
    assert events_delivered(hook) == ["finding.opened"] * 3 * (2 + 12)
