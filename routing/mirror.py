"""The epoch and feature stamps a process read, kept in its memory while it hears every change announced.

Without it every resolve costs one Redis round trip (``routing.cache.current_stamps``: the epoch and the
feature's stamp) even when nothing changed, which was a fifth of a cached answer's time. With it, a
thread in each process subscribes to the channel every invalidation is announced on
(``routing.cache.announce``) and drops what an announcement names: a feature's stamp (and the stamp of
unknown targets, which every feature change renews), the access stamp (who may ask), or everything for a
new epoch. Reads that find their
keys here cost no round trip; the others read Redis and keep what they found.

It serves only while it is sure to hear: from the moment its subscription is confirmed (everything kept
before is dropped then) until the connection fails or stays silent past ``SILENT_SECONDS`` (it pings every
``PING_SECONDS``); then it drops everything, reads go to Redis again, and it reconnects with backoff.

Three rules keep it right:

- **A read never keeps what an announcement already replaced.** Each announcement heard bumps a sequence
  number; a read notes it before asking Redis and keeps the values only if it has not moved since (a
  change announced while the read was in flight would otherwise leave the old stamp behind).
- **The process that makes a change forgets at once** (``forget`` is called before the announcement is
  published), so a request it serves next never sees the old stamp, whatever the subscription's delay.
  Other processes hear it within a few milliseconds: the same window a request that read the stamp just
  before the change had without the mirror.
- **Nothing is kept long without asking again**: an entry is read from Redis again after
  ``REFRESH_SECONDS`` (less up to half, drawn per entry), the bound for anything that changes a stamp
  without an announcement (a stamp lapsing after its day, a cache flushed by hand).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time

log = logging.getLogger(__name__)

PING_SECONDS = 5.0
SILENT_SECONDS = 3 * PING_SECONDS
REFRESH_SECONDS = 300.0
MAX_ENTRIES = 100_000
BACKOFF_SECONDS = (0.5, 1, 2, 5)


class StampMirror:
    def __init__(
        self, *, feature_prefix: str, unknown_key: str, access_key: str, refresh_seconds: float = REFRESH_SECONDS
    ):
        self.feature_prefix = feature_prefix
        self.unknown_key = unknown_key
        self.access_key = access_key
        self.refresh_seconds = refresh_seconds
        self._lock = threading.Lock()
        self._values: dict[str, tuple[str, float]] = {}
        self._seq = 0
        self._following = None  # the Redis URL whose announcements it hears, while it is sure to hear them
        self._source = None  # (url, channel) the thread follows
        self._pid = None
        self._thread = None
        self._stop = threading.Event()
        self.heard = 0  # announcements heard (for tests and diagnostics)

    # --- Reading -------------------------------------------------------------------------------------

    def following(self, url: str, channel: str) -> bool:
        """Whether reads for this Redis may be answered here; starts the thread on first use in a process
        (a forked worker starts its own)."""
        if self._pid != os.getpid() or self._source != (url, channel):
            self._start(url, channel)
        return self._following == url

    def get(self, keys) -> tuple[int, dict[str, str]]:
        """The sequence number to pass to ``keep``, and the values held and still fresh for ``keys``."""
        now = time.monotonic()
        seq, values = self._seq, self._values
        found = {}
        for key in keys:
            entry = values.get(key)
            if entry is not None and entry[1] > now:
                found[key] = entry[0]
        return seq, found

    def keep(self, found: dict, seq: int) -> None:
        """Keep values just read from Redis, unless an announcement was heard since ``seq`` was taken."""
        if not found:
            return
        now = time.monotonic()
        with self._lock:
            if seq != self._seq or self._following is None:
                return
            if len(self._values) + len(found) > MAX_ENTRIES:
                self._values = {}
            for key, value in found.items():
                self._values[key] = (value, now + self.refresh_seconds * random.uniform(0.5, 1.0))

    # --- Forgetting ----------------------------------------------------------------------------------

    def forget(self, feature_slugs, *, access: bool = False) -> None:
        """Drop what a change replaced: these features' stamps (and the unknown targets' stamp), the access
        stamp when ``access``, or everything when ``feature_slugs`` is None."""
        with self._lock:
            self._seq += 1
            if feature_slugs is None:
                self._values = {}
                return
            values = dict(self._values)
            if access:
                values.pop(self.access_key, None)
            if feature_slugs:
                values.pop(self.unknown_key, None)
            for slug in feature_slugs:
                values.pop(self.feature_prefix + str(slug), None)
            self._values = values

    def clear(self) -> None:
        self.forget(None)

    def _heard(self, data) -> None:
        self.heard += 1
        access = False
        try:
            change = json.loads(data)
            features, access = change.get("features"), bool(change.get("access"))
            slugs = None if features is None else [str(slug) for slug in features]
        except (ValueError, TypeError, AttributeError):
            log.warning("routing stamp mirror: an announcement it cannot read; everything dropped")
            slugs = None
        self.forget(slugs, access=access)

    def _go_live(self, url: str) -> None:
        with self._lock:
            self._seq += 1
            self._values = {}
            self._following = url

    def _go_dark(self) -> None:
        with self._lock:
            self._seq += 1
            self._values = {}
            self._following = None

    # --- The thread ----------------------------------------------------------------------------------

    def _start(self, url: str, channel: str) -> None:
        with self._lock:
            if self._pid == os.getpid() and self._source == (url, channel):
                return
            if self._thread is not None and self._pid == os.getpid():
                self._stop.set()  # another Redis now (settings changed): the old thread ends
            self._stop = stop = threading.Event()
            self._pid, self._source, self._following, self._values = os.getpid(), (url, channel), None, {}
            self._seq += 1
            self._thread = threading.Thread(
                target=self._run, args=(url, channel, stop), name="routing-stamp-mirror", daemon=True
            )
        self._thread.start()

    def _run(self, url: str, channel: str, stop: threading.Event) -> None:
        import redis

        failures = 0
        while not stop.is_set():
            client = pubsub = None
            try:
                client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=SILENT_SECONDS)
                pubsub = client.pubsub()
                pubsub.subscribe(channel)
                heard_at = last_ping = time.monotonic()
                while not stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    now = time.monotonic()
                    if message is not None:
                        heard_at = now
                        kind = message.get("type")
                        if kind == "subscribe":
                            failures = 0
                            self._go_live(url)
                        elif kind == "message":
                            self._heard(message.get("data"))
                    if now - heard_at > SILENT_SECONDS:
                        raise ConnectionError("no answer to its pings")
                    if now - last_ping >= PING_SECONDS:
                        pubsub.ping()
                        last_ping = now
            except Exception:
                if self._following is not None:
                    log.warning("routing stamp mirror: lost its subscription; reading Redis meanwhile", exc_info=True)
                failures += 1
            finally:
                self._go_dark()
                for closable in (pubsub, client):
                    try:
                        if closable is not None:
                            closable.close()
                    except Exception:
                        pass
            stop.wait(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1] if failures else 0)
