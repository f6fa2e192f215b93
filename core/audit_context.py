"""Where a write comes from: web, API, task or command line, and which request.

Middleware, Celery tasks and management commands set it; ``audit_record`` reads it, so services do
not need the request passed down to them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import models


class AuditSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    TASK = "task", "Task"
    CLI = "cli", "Command line"


@dataclass(frozen=True)
class AuditContext:
    source: str = AuditSource.CLI
    request_id: str = ""


_current: contextvars.ContextVar[AuditContext] = contextvars.ContextVar(
    "gatehouse_audit_context",
    default=AuditContext(),  # noqa: B039 (a frozen dataclass: immutable)
)


def current_audit_context() -> AuditContext:
    return _current.get()


@contextmanager
def audit_context(*, source: str, request_id: str = "") -> Iterator[AuditContext]:
    context = AuditContext(source=AuditSource(source), request_id=request_id[:64])
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
