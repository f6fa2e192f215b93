"""Queueing a task without ever waiting on the broker.

A plain ``.delay()`` with the broker down blocks the caller: kombu retries the connection (2 s apart, up
to ``broker_connection_timeout``), then Celery retries the publish three times, and each connect to a
host that drops packets waits for the OS timeout. Measured: ~19 s per ``.delay()``, so a rollback (a
webhook and a recheck) took 38 s and an incident creation passed the worker's 60 s timeout and answered
500 *after committing* — inviting a duplicate on retry.

Every task queued from a request is recoverable without its message: the webhook outbox row is sent by
the every-minute ``deliver_due`` sweep, unsent notice emails by the hourly freshness sweep, rechecks by
the next sweep. So ``enqueue`` makes one attempt with a short connect timeout, no retry, and logs a
failure instead of raising. After a failure it skips the broker for ``BROKER_DOWN_SECONDS`` (in this
process), so a request that queues many tasks pays for at most one failed connect.

When Celery is eager (tests, the demo) the task runs here and its errors propagate, as with ``.delay()``.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

BROKER_DOWN_SECONDS = 15.0
_down_until = 0.0


def broker_marked_down() -> bool:
    return time.monotonic() < _down_until


def reset() -> None:
    """Forget a failure (tests; a process that knows the broker is back)."""
    global _down_until
    _down_until = 0.0


def enqueue(task, args=(), kwargs=None, *, what: str = "", **options) -> bool:
    """Publish ``task`` once, without retrying or blocking on an unreachable broker. True when queued (or run,
    eagerly); False when the broker could not be reached: logged, the caller's fallback sends it later.
    ``what`` names the work in the log ("webhook delivery 3f2c..."); ``options`` go to ``apply_async``."""
    global _down_until
    app = task.app
    what = what or task.name
    if app.conf.task_always_eager:
        task.apply_async(args, kwargs, **options)
        return True
    if broker_marked_down():
        logger.error("Could not queue %s: the broker was unreachable moments ago; it is sent later.", what)
        return False
    timeout = app.conf.broker_connection_timeout  # CELERY_BROKER_CONNECT_TIMEOUT
    try:
        with app.pool.acquire(block=True, timeout=timeout) as connection:
            # One attempt to connect (a pooled connection that is connected is reused as is) ...
            connection.ensure_connection(max_retries=0, timeout=timeout)
            # ... and one to publish. ignore_result: no result-backend subscription (another Redis round trip).
            task.apply_async(args, kwargs, connection=connection, retry=False, ignore_result=True, **options)
    except Exception:
        _down_until = time.monotonic() + BROKER_DOWN_SECONDS
        logger.exception("Could not queue %s: the broker is unreachable; it is sent later.", what)
        return False
    return True
