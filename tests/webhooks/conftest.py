"""The webhooks test world: plain http allowed (the receiver is local), a real HTTP receiver on
127.0.0.1 that records what it gets and answers what it is told (loopback is unblocked while it runs),
subscriptions made through the service, and the approvals world (gates, reviewers, promotions) for events
made by the real services."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from incidents.services import incident_open
from tests.approvals import conftest as gates
from webhooks.choices import SUBSCRIBABLE_EVENTS
from webhooks.models import WebhookDelivery
from webhooks.services import subscription_create, subscription_ping

# The approvals world, re-exported: its gates, feature, pins, reviewers and the helpers that take a version live.
default_gates = gates.default_gates
feature = gates.feature
pins = gates.pins
new_version = gates.new_version
record_evidence = gates.record_evidence
second_ml_engineer = gates.second_ml_engineer
second_security_reviewer = gates.second_security_reviewer
reviewers = gates.reviewers
sign_all = gates.sign_all
request_gate = gates.request_gate
approved_request = gates.approved_request
go_live = gates.go_live
releases = gates.releases
fresh = gates.fresh


@pytest.fixture(autouse=True)
def allow_http(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next of ``answers`` (then 200), and records it."""

    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *answers):
        self.answers.extend(answer if isinstance(answer, tuple) else (answer, "") for answer in answers)


@pytest.fixture
def receiver(settings):
    """The receiver listens on loopback, which WEBHOOKS_BLOCKED_NETWORKS blocks by default: lifted while it runs."""
    settings.WEBHOOKS_BLOCKED_NETWORKS = []
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = True
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
                code, text = state.answers.pop(0) if state.answers else (200, "ok")
            self.send_response(code)
            if 300 <= code < 400:
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(text.encode())))
            self.end_headers()
            self.wfile.write(text.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/gatehouse"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def subscribe(governance_admin, receiver):
    """Make a subscription through the service: every event, every feature, to the receiver, by default."""

    def make(*, actor=None, team=None, events=SUBSCRIBABLE_EVENTS, active=True, name=None, url=None):
        subscription, _secret = subscription_create(
            actor=actor or governance_admin,
            name=name or f"hook-{timezone.now().timestamp()}",
            target_url=url or receiver.url,
            events=events,
            team=team,
            active=active,
        )
        return subscription

    return make


@pytest.fixture
def pinged_hooks(subscribe, governance_admin):
    """A ``grow(n)`` for query-count tests: n more subscriptions (by default every feature's), each pinged once."""

    def grower(*, actor=None, team=None):
        def grow(n):
            for _ in range(n):
                subscription_ping(actor=actor or governance_admin, subscription=subscribe(actor=actor, team=team))

        return grow

    return grower


def make_due(delivery):
    """Time passes: the delivery's next attempt is now."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def open_incident(actor, feature):
    return incident_open(
        actor=actor,
        feature=feature,
        environment="production",
        region=feature.regions.first(),
        severity="sev3",
        impact_start=timezone.now() - timedelta(minutes=10),
        title="Odd answers",
        description="Odd answers seen.",
    )


def events_delivered(subscription=None):
    deliveries = WebhookDelivery.objects.all() if subscription is None else subscription.deliveries.all()
    return sorted(deliveries.values_list("event", flat=True))
