"""Sending deliveries: sign, POST, record the attempt, schedule a retry or give up.

A delivery is claimed in a short transaction (``select_for_update(skip_locked=True)``, then marked
``delivering`` with a lease), sent outside any transaction, and its outcome recorded in another short
one, conditional on the claim still being ours. So no database lock is held while a receiver is slow,
a task that runs twice (a redelivered message, the sweep) sends once, and a worker that dies mid-request
leaves the delivery to the sweep once the lease lapses.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import http.client
import json
import logging
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.mail import clean_subject
from registry.services import notify
from webhooks.choices import (
    CLAIM_LEASE,
    MAX_ATTEMPTS,
    OPEN_STATUSES,
    RETRY_DELAYS,
    TIMEOUT_SECONDS,
    DeliveryStatus,
    WebhookEvent,
)
from webhooks.destinations import BlockedDestination, CheckedHTTPHandler, CheckedHTTPSHandler
from webhooks.models import WebhookAttempt, WebhookDelivery
from webhooks.outbox import queue_on_commit

logger = logging.getLogger(__name__)

USER_AGENT = "Gatehouse-Webhooks/1"
# What is kept of a receiver's answer: enough to recognise it ("ok", "invalid signature"), too little to read
# an internal service's pages back through a subscription aimed at it. One line, no control characters; the
# pages escape it (never rendered as HTML).
EXCERPT_CHARS = 120
ERROR_CHARS = 500


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``X-Gatehouse-Signature``: HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed with the subscription's secret."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def request_headers(delivery: WebhookDelivery, body: bytes, *, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Gatehouse-Event": delivery.event,
        "X-Gatehouse-Delivery": str(delivery.pk),
        "X-Gatehouse-Timestamp": str(timestamp),
        "X-Gatehouse-Signature": sign(delivery.subscription.secret, timestamp, body),
    }


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is the receiver's answer, not an instruction: a signed body is never sent somewhere else."""

    def redirect_request(self, *args, **kwargs):
        return None


def build_opener(*, tls_context: ssl.SSLContext | None = None) -> urllib.request.OpenerDirector:
    """http(s) only, through connections that go only where ``webhooks.destinations`` allows, verifying
    certificates (``tls_context`` is for tests). No proxy from the environment: a proxy would resolve and reach
    the target itself, past the check. No file:, ftp: or data: handler: any other scheme is an error."""
    if tls_context is None:
        tls_context = ssl.create_default_context()
        tls_context.set_alpn_protocols(["http/1.1"])  # as http.client's own default
    opener = urllib.request.OpenerDirector()
    for handler in (
        CheckedHTTPHandler(),
        CheckedHTTPSHandler(context=tls_context),
        _NoRedirects(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


_opener = build_opener()


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str
    excerpt: str
    duration_ms: int
    detail: str = ""  # the technical form of ``error`` (``gaierror: [Errno -2] …``), for whoever debugs it

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def sanitised_excerpt(text: str) -> str:
    """One line of at most ``EXCERPT_CHARS`` printable characters."""
    return clean_subject(text, limit=EXCERPT_CHARS)


def _excerpt(stream) -> str:
    try:
        return sanitised_excerpt(stream.read(EXCERPT_CHARS * 4).decode("utf-8", errors="replace"))
    except (OSError, http.client.HTTPException):
        return ""


def technical_detail(failure: BaseException) -> str:
    """The error as Python named it, e.g. ``gaierror: [Errno -2] Name or service not known``."""
    return f"{type(failure).__name__}: {failure}"[:ERROR_CHARS]


def _host_of(url: str) -> tuple[str, int | None]:
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return parts.hostname or url, port or {"http": 80, "https": 443}.get(parts.scheme)


def human_error(failure: BaseException, url: str = "") -> str:
    """What went wrong, in words, for the delivery log: "Could not resolve host example.invalid.", not
    ``gaierror: [Errno -2] Name or service not known`` (kept apart, by ``technical_detail``)."""
    host, port = _host_of(url) if url else ("the receiver", None)
    if isinstance(failure, BlockedDestination):
        return f"Refused: {failure}"
    if isinstance(failure, socket.gaierror):
        return f"Could not resolve host {host} (no DNS record for that name)."
    if isinstance(failure, (TimeoutError, socket.timeout)):
        return f"Timed out after {TIMEOUT_SECONDS} s: {host} did not answer."
    if isinstance(failure, ConnectionRefusedError):
        where = f"{host} on port {port}" if port else host
        return f"Connection refused by {where} (nothing listens there)."
    if isinstance(failure, (ConnectionResetError, http.client.RemoteDisconnected, ConnectionAbortedError)):
        return f"{host} closed the connection without answering."
    if isinstance(failure, ssl.SSLCertVerificationError):
        detail = getattr(failure, "verify_message", "") or "not trusted"
        return f"The TLS certificate of {host} could not be verified (CERTIFICATE_VERIFY_FAILED: {detail})."
    if isinstance(failure, ssl.SSLError):
        return f"The TLS handshake with {host} failed ({getattr(failure, 'reason', None) or 'SSL error'})."
    if isinstance(failure, OSError) and failure.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return f"The network of {host} is unreachable from this server."
    if isinstance(failure, ValueError) or "unknown url type" in str(failure):
        return f"The target URL cannot be used: {failure}."
    return f"Could not reach {host}."


def post(url: str, body: bytes, headers: dict[str, str]) -> Response:
    """POST with a timeout (connect and each read), following no redirects, to no blocked network. Never raises
    for the network."""
    started = time.monotonic()
    status_code, error, excerpt, detail = None, "", "", ""
    try:
        with _opener.open(
            urllib.request.Request(url, data=body, headers=headers, method="POST"), timeout=TIMEOUT_SECONDS
        ) as response:
            status_code, excerpt = response.status, _excerpt(response)
    except urllib.error.HTTPError as answer:  # a non-2xx answer
        status_code, excerpt = answer.code, _excerpt(answer)
        error = f"HTTP {answer.code}" + (" (redirects are not followed)" if 300 <= answer.code < 400 else "")
    except urllib.error.URLError as failure:  # no answer: refused, unresolvable, timed out, TLS
        reason = failure.reason
        if isinstance(reason, BlockedDestination):
            logger.warning("Webhook to %s refused: %s", url, reason)
        if isinstance(reason, BaseException):
            error, detail = human_error(reason, url), technical_detail(reason)
        else:
            error, detail = f"The target URL cannot be used: {reason}.", technical_detail(failure)
    except (OSError, http.client.HTTPException, ValueError) as failure:
        error, detail = human_error(failure, url), technical_detail(failure)
    return Response(
        status_code, error[:ERROR_CHARS], excerpt, int((time.monotonic() - started) * 1000), detail[:ERROR_CHARS]
    )


def due(now) -> QuerySet[WebhookDelivery]:
    """Deliveries to send now: not finished, time come, of an active subscription (a ping goes out anyway).
    Those of a disabled subscription wait for it to be enabled again."""
    return WebhookDelivery.objects.filter(status__in=OPEN_STATUSES, next_attempt_at__lte=now).filter(
        Q(subscription__active=True) | Q(event=WebhookEvent.PING)
    )


def _claim(delivery_id) -> WebhookDelivery | None:
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None  # finished, not due yet, claimed by another worker, or gone with its subscription
        delivery.status = DeliveryStatus.DELIVERING
        delivery.attempts += 1
        delivery.next_attempt_at = now + CLAIM_LEASE
        delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery


def retry_delay(attempts: int):
    """The wait after failed attempt number ``attempts`` (1-based), with up to 10% jitter."""
    return RETRY_DELAYS[attempts - 1] * random.uniform(1.0, 1.1)


def delivery_attempt(*, delivery_id) -> str:
    """Send one delivery if it is due and nobody else is sending it. Returns its status after the attempt,
    or "" when there was nothing to do."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return ""
    body = encode(delivery.payload)
    headers = request_headers(delivery, body, timestamp=int(time.time()))
    response = post(delivery.subscription.target_url, body, headers)
    now = timezone.now()
    if response.succeeded:
        status, next_attempt_at = DeliveryStatus.SUCCEEDED, None
    elif delivery.attempts >= MAX_ATTEMPTS:
        status, next_attempt_at = DeliveryStatus.FAILED, None
    else:
        status, next_attempt_at = DeliveryStatus.RETRYING, now + retry_delay(delivery.attempts)
    outcome = {
        "status": status,
        "next_attempt_at": next_attempt_at,
        "last_status_code": response.status_code,
        "last_error": response.error,
        "last_error_detail": response.detail,
        "last_response_excerpt": response.excerpt,
        "duration_ms": response.duration_ms,
        **({"delivered_at": now} if response.succeeded else {}),
    }
    with transaction.atomic():
        recorded = WebhookDelivery.objects.filter(
            pk=delivery.pk, status=DeliveryStatus.DELIVERING, attempts=delivery.attempts
        ).update(**outcome)
        if not recorded:  # the lease lapsed and another worker took it over, or the subscription was deleted
            logger.warning("Webhook delivery %s changed hands while it was being sent.", delivery.pk)
            return ""
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            request_headers=headers,
            status_code=response.status_code,
            error=response.error,
            error_detail=response.detail,
            response_excerpt=response.excerpt,
            duration_ms=response.duration_ms,
            succeeded=response.succeeded,
        )
        if status == DeliveryStatus.FAILED:
            _tell_owner(delivery, response, now)
    # A retry is sent by the every-minute ``deliver_due`` sweep once it is due, not by a delayed message: a
    # countdown of hours would outlive the broker's visibility timeout and be redelivered again and again.
    return status


def _tell_owner(delivery: WebhookDelivery, response: Response, now) -> None:
    """At most one notice per subscription and day, however many deliveries fail."""
    subscription = delivery.subscription
    notify(
        users=[subscription.created_by],
        subject=f"Webhook {subscription.name} gave up delivering {delivery.event}",
        body=f"{MAX_ATTEMPTS} attempts failed; the last: {response.error or response.status_code}. "
        "Fix the receiver, then redeliver from the delivery log.",
        url=delivery.get_absolute_url(),
        key=f"webhook-failed:{subscription.pk}:{now:%Y-%m-%d}",
    )


def deliveries_queue_due(*, limit: int = 500) -> int:
    """The sweep (every minute): queue a send of each due delivery, oldest first. Catches rows whose
    queueing failed after their commit, retries whose message was lost, and lapsed claims."""
    ids = list(due(timezone.now()).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    queue_on_commit(ids)
    return len(ids)
