"""Resolve in the router's own process, from Gatehouse's routing snapshot.

``LocalResolver`` loads ``GET /api/v1/routing/snapshot/`` (every live route's decision for the features the
token may resolve), checks its signature, and answers ``resolve(feature, region, environment)`` from memory
with the same body the server's resolve gives, including the decision token. A background thread asks for
the snapshot again every ``refresh_seconds`` (``If-None-Match``: an unchanged snapshot costs a 304) and
sends the ``request_id → decision`` pairs of the answers it gave to the decision ledger in batches.

When Gatehouse cannot be reached the resolver keeps answering from the last snapshot for
``serve_stale_seconds``, then follows ``when_stale``: ``"fail_closed"`` (raise ``SnapshotStale``) or
``"serve"`` (keep answering, each answer carrying a warning). It asks again with backoff (1 s doubling to
60 s) and catches up as soon as Gatehouse answers. An answer whose evidence went stale (``valid_until``)
is refreshed first (one caller at a time, at most once a second); if the snapshot still holds it, it is
served with a warning, as the server serves a route whose evidence is stale.

**Following the change stream.** Beside the polls, a second thread follows ``GET /api/v1/routing/stream/``
(Server-Sent Events, served by Gatehouse's stream process at ``stream_url``, by default the same address):
each change of an answer the resolver holds arrives within a second of its commit, signed like the
snapshot, and is applied in place; a ``hello`` naming another version than the one held, or a ``reset``,
fetches the snapshot. When the stream is not there (a server without the stream process answers 503) or
breaks, the resolver keeps polling and tries the stream again with backoff.

**A revoked token stops serving at once**, whatever ``when_stale`` says: the stream's ``revoked`` event or a
401 from the snapshot drops the snapshot, and ``resolve`` raises ``Revoked``.

A route the snapshot does not hold (never live there, an unknown feature, one the token may not see) is
asked of the server, so its answer (409 with the reasons, or 404) is the server's own.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import itertools
import json
import logging
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from gatehouse_client.api import LEDGER_BATCH, Client, GatehouseError, Unreachable

log = logging.getLogger("gatehouse_client.local")

FAIL_CLOSED = "fail_closed"
SERVE = "serve"
BACKOFF_MAX = 60.0


class SnapshotStale(GatehouseError):
    """The last snapshot is older than the resolver may serve, and Gatehouse cannot be reached."""

    def __init__(self, detail: str):
        super().__init__(None, "snapshot_stale", detail)


class Revoked(GatehouseError):
    """Gatehouse no longer accepts the token: nothing is served from the snapshot any more."""

    def __init__(self, code: str, detail: str):
        super().__init__(401, code, detail)


class BadSignature(GatehouseError):
    def __init__(self):
        super().__init__(None, "bad_signature", "The routing snapshot's signature does not match: not loaded.")


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _parse_time(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def _error_answer(error: urllib.error.HTTPError) -> dict:
    """The JSON body of an error answer (``{}`` when it has none)."""
    try:
        return json.loads(error.read() or b"{}")
    except ValueError:
        return {}


def _prepared(entry: dict) -> dict:
    """What an answer needs, made once per snapshot (or change) rather than once per answer."""
    return {
        **entry,
        "_valid_until": _parse_time(entry.get("valid_until")),
        "_body": {**entry["answer"], "decision": entry["decision"]},
    }


# A snapshot a server builds cold (a new epoch, a first start) holds every route: at tens of thousands of
# routes that takes seconds before the first byte. The first load waits up to this (or the client's timeout
# if longer); later ones, which may run on a resolve's path and have a snapshot to serve meanwhile, wait the
# client's timeout and try again later.
SNAPSHOT_FIRST_READ_SECONDS = 60.0
STREAM_READ_SECONDS = 40.0  # the stream sends a keepalive every 15 s: longer silence is a dead stream


class LocalResolver:
    def __init__(
        self,
        client: Client | None = None,
        *,
        refresh_seconds: float = 5.0,
        serve_stale_seconds: float = 300.0,
        when_stale: str = FAIL_CLOSED,
        record: bool = True,
        ledger_seconds: float = 5.0,
        max_pending: int = 1_000_000,
        follow: bool = True,
        stream_url: str | None = None,
        start: bool = True,
    ):
        if when_stale not in (FAIL_CLOSED, SERVE):
            raise ValueError(f"when_stale: {FAIL_CLOSED!r} or {SERVE!r}")
        self.client = client or Client()
        self.refresh_seconds = refresh_seconds
        self.serve_stale_seconds = serve_stale_seconds
        self.when_stale = when_stale
        self.record = record
        self.ledger_seconds = ledger_seconds
        self.follow = follow
        self.stream_url = (stream_url or self.client.url).rstrip("/")
        self.streaming = False  # True while the change stream is connected
        self.changes_applied = 0
        self.revoked: Revoked | None = None
        self._stream_response = None
        self._stream_thread: threading.Thread | None = None
        self.version: str | None = None
        self.generated_at: str | None = None
        self.last_contact: float | None = None  # monotonic: the last time Gatehouse answered
        self.failures = 0
        self._routes: dict[tuple[str, str, str], dict] = {}
        self.max_pending = max_pending
        self.dropped = 0  # ledger records given up after max_pending waited (logged)
        self._pending: collections.deque[dict] = collections.deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False
        self._id_prefix = uuid.uuid4().hex  # request ids: this resolver's prefix and a counter
        self._ids = itertools.count(1)
        self._now_held = (0, "")
        self._refreshing = threading.Lock()  # one fetch at a time, whoever asks
        self._flushing = threading.Lock()
        self._expiry_refresh_at = 0.0
        if start:
            self.start()

    # --- The snapshot ------------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Ask for the snapshot (conditionally); True when a new one was loaded. Raises ``Unreachable``."""
        with self._refreshing:
            return self._fetch()

    def _fetch(self) -> bool:
        headers = {"Accept": "application/json", "User-Agent": "gatehouse-client/0.1"}
        if self.client.token:
            headers["Authorization"] = f"Bearer {self.client.token}"
        if self.version:
            headers["If-None-Match"] = f'"{self.version}"'
        request = urllib.request.Request(f"{self.client.url}/api/v1/routing/snapshot/", headers=headers)
        timeout = self.client.timeout if self.version else max(self.client.timeout, SNAPSHOT_FIRST_READ_SECONDS)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                document = json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 304:
                self._contact()
                return False
            answer = _error_answer(error)
            detail = str(answer.get("detail", error.reason))
            if error.code == 401:
                self._revoke(answer.get("code", "authentication_failed"), detail)
                raise self.revoked from None
            raise GatehouseError(error.code, answer.get("code", "error"), detail) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"Gatehouse at {self.client.url} did not answer: {reason}") from None
        self._load(document)
        return True

    def _signature_of(self, payload: bytes) -> str:
        key = hashlib.sha256(self.client.token.encode()).hexdigest().encode()
        return hmac.new(key, payload, hashlib.sha256).hexdigest()

    def _expected_signature(self, document: dict) -> str:
        return self._signature_of(_canonical({name: document[name] for name in ("version", "generated_at", "entries")}))

    def _load(self, document: dict) -> None:
        if self.client.token and not hmac.compare_digest(
            document.get("signature", ""), self._expected_signature(document)
        ):
            raise BadSignature()
        routes = {}
        for entry in document["entries"]:
            entry = _prepared(entry)
            routes[(entry["environment"], entry["feature"], entry["region"])] = entry
        with self._lock:
            if self.generated_at is not None and document["generated_at"] < self.generated_at:
                return  # an older snapshot than the one held (answers raced): keep the newer
            self._routes = routes
            self.version = document["version"]
            self.generated_at = document["generated_at"]
        self._contact()

    def _revoke(self, code: str, detail: str) -> None:
        with self._lock:
            self.revoked = Revoked(code, detail)
            self._routes = {}
            self.version = None
        log.error("Gatehouse no longer accepts this token (%s): %s; nothing is served from the snapshot", code, detail)

    def _contact(self) -> None:
        self.last_contact = time.monotonic()
        self.failures = 0
        self._warned = False

    def stale_for(self) -> float | None:
        """Seconds since Gatehouse last answered (None: never)."""
        return None if self.last_contact is None else time.monotonic() - self.last_contact

    # --- Answers -----------------------------------------------------------------------------------

    def resolve(
        self, feature: str, region: str, environment: str = "production", *, request_id: str | None = None
    ) -> dict:
        """What the server's resolve would answer, from memory. Raises ``GatehouseError`` as resolve does
        (409 refused, 404 not found), ``SnapshotStale`` under the fail-closed policy."""
        if self.revoked is not None:
            raise self.revoked
        if self.last_contact is None:
            self.refresh()  # the first snapshot: raises Unreachable when Gatehouse cannot be reached
        warnings = []
        stale = self.stale_for() or 0.0
        if stale > self.serve_stale_seconds:
            if self.when_stale == FAIL_CLOSED:
                raise SnapshotStale(
                    f"Gatehouse has not answered for {stale:.0f} s (more than {self.serve_stale_seconds:.0f} s): "
                    "refusing to route from an old snapshot."
                )
            warnings.append(f"Served from a routing snapshot {stale:.0f} s old: Gatehouse cannot be reached.")
            if not self._warned:
                log.warning(warnings[-1])
                self._warned = True
        entry = self._routes.get((environment, feature, region))
        if entry is not None and entry["_valid_until"] is not None and time.time() >= entry["_valid_until"]:
            # Its evidence went stale since the snapshot: the server still serves, with a warning, and the
            # snapshot it gives now says so. Ask for it (one caller at a time, at most once a second).
            self._refresh_after_expiry()
            entry = self._routes.get((environment, feature, region))
            if entry is not None and entry["_valid_until"] is not None and time.time() >= entry["_valid_until"]:
                warnings.append(f"Evidence of {feature} may have gone stale since the snapshot was taken.")
        if entry is None:
            # Never live there, or a feature this token may not see: the server's own answer, one call.
            return self.client.resolve(feature, region, environment, use_cache=False)
        if entry["status"] != 200 or warnings:
            return self._refused_or_warned(entry, warnings, request_id)
        body = entry["_body"].copy()
        body["resolved_at"] = self._now()
        if self.record:
            rid = request_id or f"{self._id_prefix}-{next(self._ids)}"
            body["request_id"] = rid
            self._pending.append({"request_id": rid, "decision": entry["decision"]})  # deque.append is atomic
        return body

    def _now(self) -> str:
        """The time of an answer, as the server writes it; made at most once per millisecond."""
        millis = int(time.time() * 1000)
        held = self._now_held  # one tuple, read and replaced whole: threads never see half of it
        if held[0] != millis:
            held = self._now_held = (millis, datetime.fromtimestamp(millis / 1000, UTC).isoformat())
        return held[1]

    def _refresh_after_expiry(self) -> None:
        now = time.monotonic()
        if now < self._expiry_refresh_at or not self._refreshing.acquire(blocking=False):
            return
        try:
            self._expiry_refresh_at = now + 1.0
            self._fetch()
        except Exception:  # noqa: BLE001  (unreachable or a bad answer: the old snapshot stays)
            pass
        finally:
            self._refreshing.release()

    def _refused_or_warned(self, entry: dict, warnings: list[str], request_id: str | None) -> dict:
        answer = entry["answer"]
        if entry["status"] != 200:
            raise GatehouseError(
                entry["status"],
                answer.get("code", "no_eligible_route"),
                answer.get("detail", ""),
                {
                    **answer,
                    "decision": entry["decision"],
                },
            )
        body = {**entry["_body"], "resolved_at": self._now()}
        body["warnings"] = [*answer.get("warnings", []), *warnings]
        if self.record:
            rid = request_id or f"{self._id_prefix}-{next(self._ids)}"
            body["request_id"] = rid
            self._pending.append({"request_id": rid, "decision": entry["decision"]})
        return body

    def routes(self) -> list[tuple[str, str, str]]:
        """The (environment, feature, region) routes of the loaded snapshot."""
        return sorted(self._routes)

    # --- The change stream --------------------------------------------------------------------------

    def _follow(self) -> None:
        failures = 0
        while not self._stop.is_set() and self.revoked is None:
            try:
                self._read_stream()
                failures = 0
            except Exception as error:  # noqa: BLE001  (whatever went wrong, polling goes on; try again)
                failures += 1
                log.info("routing change stream not followed (%s)", getattr(error, "code", type(error).__name__))
            finally:
                self.streaming = False
                self._stream_response = None
            self._stop.wait(min(BACKOFF_MAX, 2 ** max(0, failures - 1)) * random.uniform(0.8, 1.2))

    def _read_stream(self) -> None:
        headers = {"Accept": "text/event-stream", "User-Agent": "gatehouse-client/0.1"}
        if self.client.token:
            headers["Authorization"] = f"Bearer {self.client.token}"
        request = urllib.request.Request(f"{self.stream_url}/api/v1/routing/stream/", headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=STREAM_READ_SECONDS)
        except urllib.error.HTTPError as error:
            answer = _error_answer(error)
            if error.code == 401:
                self._revoke(answer.get("code", "authentication_failed"), str(answer.get("detail", error.reason)))
            raise GatehouseError(error.code, answer.get("code", "error"), str(answer.get("detail", ""))) from None
        with response:
            self._stream_response = response
            self.streaming = True
            name, data = "message", []
            for raw in response:
                if self._stop.is_set():
                    return
                line = raw.decode("utf-8").rstrip("\r\n")
                if not line:
                    if data and self._on_event(name, "\n".join(data)) is False:
                        return
                    name, data = "message", []
                elif line.startswith(":"):
                    self._contact()  # a keepalive: Gatehouse is there
                else:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        name = value
                    elif field == "data":
                        data.append(value)

    def _on_event(self, name: str, data: str) -> bool:
        """Apply one event; False when the stream is to end (the token was revoked)."""
        body = json.loads(data)
        signature = body.pop("signature", "")
        if self.client.token and not hmac.compare_digest(signature, self._signature_of(_canonical(body))):
            raise BadSignature()
        if name == "revoked":
            self._revoke(body.get("code", "revoked"), body.get("detail", ""))
            return False
        self._contact()
        if name == "changes":
            self._apply(body["features"], body["version"])
        elif (name == "hello" and body.get("version") != self.version) or name == "reset":
            self.refresh()
        return True

    def _apply(self, features: dict[str, list[dict]], version: str) -> None:
        """These features' new entries, in place of what was held for them."""
        with self._lock:
            routes = {key: entry for key, entry in self._routes.items() if key[1] not in features}
            for entries in features.values():
                for entry in entries:
                    entry = _prepared(entry)
                    routes[(entry["environment"], entry["feature"], entry["region"])] = entry
            self._routes = routes
            self.version = version
            self.changes_applied += 1

    # --- The ledger --------------------------------------------------------------------------------

    def flush(self) -> int:
        """Send one batch of the pending ``request_id → decision`` pairs to the ledger; returns how many.
        When Gatehouse cannot take them they wait for the next try (the oldest beyond ``max_pending`` are
        given up, counted in ``dropped`` and logged: a ledger must not take the router's memory)."""
        batch = []
        with self._flushing:  # flushes one at a time; answers append without it (deque appends are atomic)
            while self._pending and len(batch) < LEDGER_BATCH:
                batch.append(self._pending.popleft())
            if not batch:
                return 0
            try:
                self.client.record_decisions(batch)
            except GatehouseError:
                self._pending.extendleft(reversed(batch))
                over = len(self._pending) - self.max_pending
                if over > 0:
                    for _ in range(over):
                        self._pending.popleft()
                    self.dropped += over
                    log.warning("%d decisions dropped from the ledger queue: Gatehouse cannot be reached", over)
                raise
        return len(batch)

    # --- The background thread --------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="gatehouse-snapshot", daemon=True)
            self._thread.start()
        if self.follow and (self._stream_thread is None or not self._stream_thread.is_alive()):
            self._stream_thread = threading.Thread(target=self._follow, name="gatehouse-stream", daemon=True)
            self._stream_thread.start()

    def _pause(self) -> float:
        if not self.failures:
            return self.refresh_seconds
        return min(BACKOFF_MAX, 2 ** (self.failures - 1)) * random.uniform(0.8, 1.2)

    def _run(self) -> None:
        last_flush = time.monotonic()
        while not self._stop.is_set() and self.revoked is None:
            try:
                self.refresh()
            except Exception as error:  # noqa: BLE001  (whatever went wrong, the thread lives on)
                self.failures += 1
                code = getattr(error, "code", type(error).__name__)
                log.info("routing snapshot not refreshed (%s); next try in %.1f s", code, self._pause())
            if self.record and time.monotonic() - last_flush >= self.ledger_seconds:
                try:
                    while self.flush():
                        pass
                except Exception:  # noqa: BLE001  (kept for the next try)
                    pass
                last_flush = time.monotonic()
            self._stop.wait(self._pause())

    def close(self) -> None:
        """Stop the thread and send what is pending to the ledger (best effort)."""
        self._stop.set()
        response = self._stream_response
        if response is not None:
            try:
                response.close()  # wakes the stream thread out of its read
            except Exception:  # noqa: BLE001
                pass
        for thread in (self._thread, self._stream_thread):
            if thread is not None:
                thread.join(timeout=5)
        try:
            while self.flush():
                pass
        except GatehouseError:
            log.warning("%d decisions not recorded in the ledger: Gatehouse cannot be reached", len(self._pending))

    def __getattr__(self, name: str):
        """Anything else (``decision``, ``record_decisions``...) is the client's: a ``LocalResolver`` stands
        wherever a ``Client`` is expected, such as the LiteLLM integration."""
        return getattr(self.client, name)
