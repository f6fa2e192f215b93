"""Faults: the database connection dropping in the middle of a request, the Celery worker killed in the
middle of a sweep, and Redis down (as the shared cache and as the broker). Each time the user gets a clean
answer, nothing is half-written, nothing is done twice, and nothing is silently dropped."""

from __future__ import annotations

import logging
import os
import signal
import time
from datetime import timedelta

import psycopg
import pytest
from django.core import mail
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from core import queueing
from freshness.choices import SweepStatus, SweepTrigger
from freshness.models import FreshnessFinding, SweepRun
from freshness.services import freshness_sweep
from registry.models import AuditEvent, Deployment, DeploymentEvent, Notification
from registry.services import audit_verify
from routing import cache as routing_cache
from tests.faults import closed_port
from tests.freshness.test_worker_integration import (  # noqa: F401 - fixtures
    broker,
    database_url,
    freshness_notices,
    live_with_stale_benchmark,
    schedule_sweep_every,
    start_worker,
    told_once_and_emailed,
    worker_database,
)
from tests.routing.conftest import backup_vendor, live, pins, resolve, router, uk  # noqa: F401
from tests.webhooks.conftest import allow_http, open_incident, receiver, subscribe  # noqa: F401 - fixtures
from webhooks.choices import DeliveryStatus
from webhooks.models import WebhookDelivery

LEAK_MARKERS = ("Traceback", "OperationalError", "psycopg", "terminating connection", 'File "/')


def counts():
    """What a half-written promotion would change."""
    return {
        "deployments": Deployment.objects.count(),
        "events": DeploymentEvent.objects.count(),
        "audit": AuditEvent.objects.count(),
        "notices": Notification.objects.count(),
    }


def assert_no_leak(response):
    text = response.content.decode(errors="replace")
    assert not [marker for marker in LEAK_MARKERS if marker in text], text[:2000]


# --- (a) the database connection drops mid-request -----------------------------------------------


@pytest.fixture
def drop_connection_after_first_promotion_write(monkeypatch):
    """Kill this process's database session (``pg_terminate_backend`` from another connection) right after
    the first region's pointer, history row and audit event are written, before the second region's."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: killing the server session of a live request needs a database server "
            "(set DATABASE_URL=postgres://...)"
        )
    from registry.services import deployments

    original = deployments.audit_record
    killed = []  # the hook is armed by appending "armed"; it then records the killed session's pid

    def audit_then_drop(**kwargs):
        result = original(**kwargs)
        if killed == ["armed"]:
            pid = connection.connection.info.backend_pid
            with psycopg.connect(database_url(), autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
                deadline = time.monotonic() + 10
                while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
                    assert time.monotonic() < deadline, "the session was not terminated"
                    time.sleep(0.05)
            killed.append(pid)
        return result

    monkeypatch.setattr(deployments, "audit_record", audit_then_drop)
    return killed


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("interface", ["page", "api"])
def test_a_connection_dropped_mid_promotion_fails_cleanly_and_writes_nothing(
    interface,
    feature,
    eu,
    us,
    product_owner,
    new_version,
    go_live,
    approved_request,
    drop_connection_after_first_promotion_write,
    caplog,
):
    go_live(new_version(summary="First release."))
    request = approved_request(new_version(summary="Second release."))
    before = counts()
    client = Client(raise_request_exception=False)
    client.force_login(product_owner)
    drop_connection_after_first_promotion_write.append("armed")

    with caplog.at_level(logging.ERROR):
        if interface == "page":
            response = client.post(reverse("approvals:promote", args=[request.pk]), {"reason": "CHG-1"})
        else:
            response = client.post(
                f"/api/v1/approval-requests/{request.pk}/promote/", {"reason": "CHG-1"}, content_type="application/json"
            )

    assert len(drop_connection_after_first_promotion_write) == 2, "the hook never ran: the test proves nothing"
    assert response.status_code in (500, 503)
    assert_no_leak(response)
    if interface == "api":
        assert response["Content-Type"].startswith("application/json")
        assert "database" in response.json()["detail"].lower()
    else:
        assert b"Nothing was half-saved" in response.content
    assert any(record.levelno >= logging.ERROR for record in caplog.records), "the failure was not logged"
    # Nothing half-written: the first region's pointer, history and audit event went with the connection.
    assert counts() == before
    assert not DeploymentEvent.objects.filter(approval_request_id=request.pk).exists()
    verification = audit_verify()
    assert verification.ok, verification.message
    # And nothing stands in the way of trying again.
    retry = client.post(
        f"/api/v1/approval-requests/{request.pk}/promote/", {"reason": "CHG-1"}, content_type="application/json"
    )
    assert retry.status_code == 201, retry.content
    assert len(retry.json()) == 2
    assert DeploymentEvent.objects.filter(approval_request_id=request.pk).count() == 2
    assert audit_verify().ok


# --- (b) the Celery worker is killed mid-sweep -----------------------------------------------------


def waiting_on_a_lock() -> list[int]:
    """Sessions of the test database waiting for a lock (asked afresh: pg_stat_activity is a snapshot per
    transaction)."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        return [
            row[0]
            for row in other.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchall()
        ]


@pytest.mark.slow  # real Celery workers
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_sweep_leaves_nothing_and_the_rerun_tells_owners_once(
    start_worker, live_with_stale_benchmark, product_owner, ml_engineer
):
    from registry.models import AuditChainHead

    AuditChainHead.objects.get_or_create(pk=1)
    schedule_sweep_every(2)
    owners = [product_owner, ml_engineer]
    # Hold the audit chain's lock: the sweep takes it last, so the worker's sweep writes its findings and
    # notices and then waits, mid-transaction, for this lock. That is where the worker is killed.
    holder = psycopg.connect(database_url())
    try:
        holder.execute(f"SELECT 1 FROM {AuditChainHead._meta.db_table} WHERE id = 1 FOR UPDATE")
        worker = start_worker()
        worker.wait_for("the sweep to be half-way (waiting on the audit chain)", waiting_on_a_lock)
        stuck = waiting_on_a_lock()
        assert "evidence_freshness_sweep" in worker.output()

        os.killpg(worker.process.pid, signal.SIGKILL)  # kill -9: worker, embedded beat, everything
        worker.process.wait(timeout=10)
    finally:
        holder.rollback()
        holder.close()

    # The orphaned session ends when its lock wait does; its transaction never committed.
    with psycopg.connect(database_url(), autocommit=True) as other:
        deadline = time.monotonic() + 20
        while other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", [stuck]).fetchone():
            assert time.monotonic() < deadline, "the killed worker's session is still there"
            time.sleep(0.1)
    assert not FreshnessFinding.objects.exists()
    assert not freshness_notices().exists()
    assert not SweepRun.objects.exists()
    assert audit_verify().ok

    # The rerun (the next beat tick, on a new worker) completes, and each owner is told once.
    rerun_worker = start_worker()
    run = rerun_worker.wait_for(
        "a sweep run after the restart",
        lambda: SweepRun.objects.filter(trigger=SweepTrigger.SCHEDULE).order_by("id").first(),
    )
    assert run.status == SweepStatus.SUCCEEDED, run.error
    assert (run.findings_opened, run.notifications) == (1, 2)
    rerun_worker.wait_for("the email of each notice", lambda: told_once_and_emailed(owners))
    rerun_worker.wait_for("two more runs", lambda: SweepRun.objects.filter(pk__gt=run.pk).count() >= 2)
    assert told_once_and_emailed(owners)
    assert FreshnessFinding.objects.count() == 1
    assert not SweepRun.objects.exclude(status=SweepStatus.SUCCEEDED).exists()
    verification = audit_verify()
    assert verification.ok, verification.message


# --- (c) Redis down --------------------------------------------------------------------------------


@pytest.fixture
def cache_down():
    """The shared cache (``CACHE_URL``) points at a Redis that is not there."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    ):
        routing_cache.decisions.clear()
        routing_cache.identities.clear()
        yield url
    routing_cache.decisions.clear()
    routing_cache.identities.clear()


@pytest.fixture
def broker_down():
    """Celery's broker (``CELERY_BROKER_URL``) points at a Redis that is not there, tasks are sent, not run."""
    from config.celery import app

    changes = {
        "broker_write_url": f"redis://127.0.0.1:{closed_port()}/0",
        "task_always_eager": False,
        "broker_connection_timeout": 1,
    }
    saved = {name: app.conf[name] for name in changes}
    app.conf.update(changes)
    app._pool = None
    app.amqp._producer_pool = None
    queueing.reset()
    yield app
    app.conf.update(saved)
    app._pool = None
    app.amqp._producer_pool = None
    queueing.reset()


@pytest.mark.django_db(transaction=True)
def test_with_the_cache_down_pages_resolve_and_rollback_keep_working(
    cache_down, router, live, feature, eu, product_owner, new_version, go_live
):
    go_live(new_version(summary="Second release."))
    client = Client(raise_request_exception=False)
    client.force_login(product_owner)
    for url in ("/", reverse("registry:feature_list"), feature.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    answer = resolve(router)
    assert answer.status_code == 200, answer.content
    live_number = answer.json()["version"]["number"]

    response = client.post(
        reverse("registry:rollback", kwargs={"slug": feature.slug, "environment": "production", "region": "eu"}),
        {"to_version": live.pk, "reason": "Errors after the release."},
    )
    assert response.status_code == 302, response.content[:500]
    # The next resolve sees the rollback although no cache could carry the news: it reads the database.
    after = resolve(router)
    assert after.status_code == 200
    assert after.json()["version"]["number"] == Deployment.objects.get(feature=feature, region=eu).version.number
    assert (live_number, after.json()["version"]["number"]) == (2, live.number)


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_notices_are_kept_logged_and_emailed_by_the_next_sweep(
    broker_down, ml_engineer, feature, new_version, record_evidence, request_gate, eu, us, caplog
):
    version = new_version()
    record_evidence(version)
    mail.outbox.clear()
    client = Client(raise_request_exception=False)
    client.force_login(ml_engineer)

    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/api/v1/approval-requests/",
            {"version_id": version.pk, "environment": "production", "regions": ["eu", "us"], "note": "Please review."},
            content_type="application/json",
        )

    # The request was made and the answer says so: a broker outage is not the user's failure.
    assert response.status_code == 201, response.content[:1000]
    assert ApprovalRequest.objects.filter(version=version).count() == 1
    notices = Notification.objects.filter(url__contains=f"/{response.json()['id']}")
    assert notices.exists()
    assert not notices.filter(emailed_at__isnull=False).exists()
    assert not mail.outbox
    assert any("Could not queue" in record.getMessage() for record in caplog.records), "silently dropped"

    # The broker is back: the hourly sweep picks up every notice whose email never went out.
    broker_down.conf.task_always_eager = True
    freshness_sweep(now=timezone.now() + timedelta(minutes=20))
    emailed = Notification.objects.filter(pk__in=notices.values("pk"), emailed_at__isnull=False).count()
    assert emailed == notices.count()
    assert len(mail.outbox) == notices.exclude(user__email="").count()


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_webhook_stays_pending_and_the_delivery_sweep_sends_it(
    broker_down, subscribe, receiver, support_agent, feature, caplog
):
    subscription = subscribe(events=["incident.opened"])

    with caplog.at_level(logging.ERROR):
        open_incident(support_agent, feature)

    delivery = WebhookDelivery.objects.get(subscription=subscription)
    assert delivery.status == DeliveryStatus.PENDING
    assert not receiver.requests
    assert any("Could not queue webhook delivery" in record.getMessage() for record in caplog.records)

    # The broker is back: the every-minute delivery sweep (``deliver_due``) sends it, once.
    broker_down.conf.task_always_eager = True
    from webhooks.tasks import deliver_due

    deliver_due.delay()
    deliver_due.delay()
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED
    assert [request.json["event"] for request in receiver.requests] == ["incident.opened"]


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_sweep_asked_for_is_refused_with_the_reason_not_lost(
    broker_down, governance_admin, caplog
):
    client = Client(raise_request_exception=False)
    client.force_login(governance_admin)

    with caplog.at_level(logging.ERROR):
        page = client.post(reverse("freshness:run_sweep"), follow=True)
        api = client.post("/api/v1/freshness/runs/")

    assert page.status_code == 200
    assert b"The task queue is unreachable, so the sweep was not queued" in page.content
    assert b"Sweep queued" not in page.content
    assert api.status_code == 503
    assert "not queued" in api.json()["detail"]
    assert_no_leak(api)
    assert not SweepRun.objects.exists()
    assert sum("Could not queue the sweep" in record.getMessage() for record in caplog.records) == 2


@pytest.fixture
def broker_connects(monkeypatch):
    """Every attempt to open a connection to the (down) broker, counted."""
    import redis.connection

    attempts = []
    original = redis.connection.AbstractConnection.connect

    def counted(self, *args, **kwargs):
        attempts.append((self.host, self.port))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(redis.connection.AbstractConnection, "connect", counted)
    return attempts


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_rollback_and_an_incident_answer_without_retrying_and_beat_sends_them(
    broker_down,
    broker_connects,
    subscribe,
    receiver,
    product_owner,
    support_agent,
    feature,
    new_version,
    go_live,
    live,
    caplog,
):
    """Issue 16: each ``.delay()`` retried the broker for ~19 s, so a rollback took 38 s and an incident
    creation passed the worker timeout and answered 500 after committing. Now a write tries the broker once."""
    go_live(new_version(summary="Second release."))
    subscription = subscribe(events=["deployment.rolled_back", "incident.opened"])
    client = Client(raise_request_exception=False)
    client.force_login(product_owner)

    with caplog.at_level(logging.ERROR):
        rolled_back = client.post(
            "/api/v1/deployments/rollback/",
            {
                "feature": feature.slug,
                "environment": "production",
                "region": "eu",
                "reason": "Errors after release.",
            },
            content_type="application/json",
        )
    # One connect, no retry loop: the webhook, the findings recheck and the owners' emails share it.
    assert rolled_back.status_code == 201, rolled_back.content[:1000]
    assert len(broker_connects) == 1, broker_connects

    queueing.reset()  # as if the broker-down memo had lapsed: the incident pays for one attempt of its own
    client.force_login(support_agent)
    with caplog.at_level(logging.ERROR):
        opened = client.post(
            "/api/v1/incidents/",
            {
                "feature": feature.slug,
                "region": "eu",
                "severity": "sev2",
                "impact_start": (timezone.now() - timedelta(hours=1)).isoformat(),
                "title": "Wrong queue",
                "description": "Motor claims in the travel queue.",
            },
            content_type="application/json",
        )
    assert opened.status_code == 201, opened.content[:1000]
    assert len(broker_connects) == 2, broker_connects
    assert any("Could not queue webhook delivery" in record.getMessage() for record in caplog.records)

    deliveries = WebhookDelivery.objects.filter(subscription=subscription)
    assert sorted(deliveries.values_list("event", "status")) == [
        ("deployment.rolled_back", DeliveryStatus.PENDING),
        ("incident.opened", DeliveryStatus.PENDING),
    ]
    assert not receiver.requests

    # The broker is back: beat's every-minute ``deliver_due`` sends both, once each.
    broker_down.conf.task_always_eager = True
    from webhooks.tasks import deliver_due

    deliver_due.delay()
    assert set(deliveries.values_list("status", flat=True)) == {DeliveryStatus.SUCCEEDED}
    assert sorted(request.json["event"] for request in receiver.requests) == [
        "deployment.rolled_back",
        "incident.opened",
    ]


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_retried_incident_with_the_same_key_is_created_once(
    broker_down, broker_connects, subscribe, receiver, support_agent, feature, caplog
):
    """The client whose first answer was lost retries with the same ``Idempotency-Key``: one incident, one
    webhook, and the retry does not touch the broker at all."""
    subscribe(events=["incident.opened"])
    client = Client(raise_request_exception=False)
    client.force_login(support_agent)
    body = {
        "feature": feature.slug,
        "region": "eu",
        "severity": "sev1",
        "impact_start": (timezone.now() - timedelta(hours=1)).isoformat(),
        "title": "Wrong queue",
        "description": "Motor claims in the travel queue.",
    }

    with caplog.at_level(logging.ERROR):
        first = client.post(
            "/api/v1/incidents/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="5d1e0a4c-incident"
        )
        connects = len(broker_connects)
        retry = client.post(
            "/api/v1/incidents/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="5d1e0a4c-incident"
        )

    assert (first.status_code, retry.status_code) == (201, 201), first.content[:1000]
    assert retry.json() == first.json() and retry.headers["Idempotent-Replayed"] == "true"
    assert connects == 1 and len(broker_connects) == connects
    from incidents.models import Incident

    assert Incident.objects.filter(feature=feature).count() == 1
    assert WebhookDelivery.objects.filter(event="incident.opened").count() == 1
