"""The shared cache (Redis) fails fast: a page never waits on it for more than ``CACHE_TIMEOUT_SECONDS``.

Every caller of the cache already copes with an error (the sign-in limiter counts in the process, resolve
computes from the database, readiness computes again). What it cannot cope with is waiting: a Redis that
accepts connections and never answers held each request for redis-py's default 5 s per call, and a
request makes several calls. So the socket timeouts are short (``CACHE_TIMEOUT``, settings), and once a
call failed to connect or timed out, the next calls to that server fail at once for
``CACHE_RETRY_SECONDS``: one request per process pays the timeout, the others fall back straight away.
Then the next call tries the server again.

Used as the Redis backend's ``pool_class`` (``config.settings``): it wraps whichever connection class the
URL asks for (plain, TLS, unix socket).
"""

from __future__ import annotations

import logging
import threading
import time

import redis

log = logging.getLogger(__name__)

_lock = threading.Lock()
_down_until: dict[tuple, float] = {}  # server -> monotonic time until which it is taken as unreachable


def _server(connection) -> tuple:
    return (getattr(connection, "host", None), getattr(connection, "port", None), getattr(connection, "path", None))


def _retry_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "CACHE_RETRY_SECONDS", 5))


def reachable(server: tuple) -> bool:
    return _down_until.get(server, 0.0) <= time.monotonic()


def mark_down(server: tuple) -> None:
    with _lock:
        first = reachable(server)
        _down_until[server] = time.monotonic() + _retry_seconds()
    if first:
        log.warning("shared cache %s unreachable: calls fail at once for %ss", server, _retry_seconds())


def forget() -> None:
    """Every server reachable again (tests; a process starting afresh)."""
    with _lock:
        _down_until.clear()


_FAILURES = (redis.ConnectionError, redis.TimeoutError, OSError)


def _guarded(base: type) -> type:
    class Guarded(base):
        def _check(self):
            if not reachable(_server(self)):
                self.disconnect()
                raise redis.ConnectionError(f"{_server(self)} was unreachable moments ago; not waiting on it again yet")

        def connect(self, *args, **kwargs):
            self._check()
            try:
                return super().connect(*args, **kwargs)
            except _FAILURES:
                mark_down(_server(self))
                raise

        def send_packed_command(self, *args, **kwargs):
            self._check()
            try:
                return super().send_packed_command(*args, **kwargs)
            except _FAILURES:
                mark_down(_server(self))
                raise

        def read_response(self, *args, **kwargs):
            try:
                return super().read_response(*args, **kwargs)
            except _FAILURES:
                mark_down(_server(self))
                raise

    Guarded.__name__ = Guarded.__qualname__ = f"FailFast{base.__name__}"
    return Guarded


_classes: dict[type, type] = {}


class FailFastConnectionPool(redis.ConnectionPool):
    def __init__(self, *args, connection_class=redis.Connection, **kwargs):
        guarded = _classes.get(connection_class)
        if guarded is None:
            guarded = _classes[connection_class] = _guarded(connection_class)
        super().__init__(*args, connection_class=guarded, **kwargs)
