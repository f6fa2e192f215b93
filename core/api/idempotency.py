"""``Idempotency-Key``: a POST retried with the same key gets the first answer, not a second write.

A client that lost the answer (a timeout, a dropped connection, a 500 from a proxy after the commit) cannot
know whether its write happened. With ``Idempotency-Key: <unique string>`` it retries safely: the same key,
by the same user, with the same method, path and body, answers what the first request answered (status and
body, with ``Idempotent-Replayed: true``) and writes nothing; the same key with another body or endpoint is
refused with 422 ``idempotency_key_reused``. Keys are kept 24 hours, in the database (they must hold while
Redis is down). Only successful (2xx) answers are kept: after an error the client may retry with the same key.

Exactly once, even when the retry arrives while the first request still runs: the key's row is inserted in
the same transaction as the write and its answer, so a concurrent retry waits on the row's unique index and
then replays; a request that fails or dies mid-way rolls back its key with its write.

``IdempotentPostMixin`` is the one implementation; every API view with a POST includes it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from core import error_codes
from core.models import IdempotencyKey

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint(request) -> str:
    """SHA-256 of the method, the path and the parsed body (JSON key order and spacing do not matter)."""
    data = request.data
    if hasattr(data, "lists"):  # a form or multipart body: every value of every field, files by name and size
        data = {
            name: [
                getattr(value, "name", value) if not hasattr(value, "size") else [value.name, value.size]
                for value in values
            ]
            for name, values in data.lists()
        }
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise ValidationError({HEADER: [f"Give 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID."]})
    return key


def _replay(record: IdempotencyKey, print_: str) -> Response:
    if record.fingerprint != print_:
        return Response(
            {
                "detail": f"This {HEADER} was already used, within the last 24 hours, for a different request "
                f"({record.method} {record.path} with another body). Use a new key for a new request.",
                "code": error_codes.IDEMPOTENCY_KEY_REUSED,
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return Response(record.response, status=record.status_code, headers={REPLAYED_HEADER: "true"})


def _stored_body(response: Response):
    return json.loads(JSONRenderer().render(response.data) or b"null")


def idempotent(handler):
    """``handler`` (a view's bound POST method) made idempotent for ``request``'s key; as is without a key."""

    @functools.wraps(handler)
    def run(request, *args, **kwargs):
        key = _key_of(request)
        if key is None or not request.user.is_authenticated:
            return handler(request, *args, **kwargs)
        print_ = fingerprint(request)
        now = timezone.now()
        with transaction.atomic():
            IdempotencyKey.objects.filter(user=request.user, key=key, created_at__lt=now - KEPT).delete()
            try:
                with transaction.atomic():  # waits for a concurrent request with the key to commit or roll back
                    record = IdempotencyKey.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=print_,
                        method=request.method,
                        path=request.path[:500],
                        status_code=0,
                        created_at=now,
                    )
            except IntegrityError:
                return _replay(IdempotencyKey.objects.get(user=request.user, key=key), print_)
            response = handler(request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                record.status_code, record.response = response.status_code, _stored_body(response)
                record.save(update_fields=["status_code", "response"])
            else:  # not kept: a retry with the same key may succeed
                record.delete()
        return response

    return run


class IdempotentPostMixin:
    """Honours ``Idempotency-Key`` on the view's POSTs (see the module). Documented on every POST of the
    schema (``core.api.schema.document_idempotency``)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and permitted first: keys are per user
        if request.method == "POST" and HEADER in request.headers:
            self.post = idempotent(self.post)
