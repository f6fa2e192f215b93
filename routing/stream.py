"""The change stream: ``GET /api/v1/routing/stream/``, Server-Sent Events of the routing snapshot's changes.

A router holding the snapshot (``routing.snapshot``, ``gatehouse_client.local``) subscribes with its API
token and is told, within a second of the commit, every change of the answers it holds: a promotion, a
rollback, a withdrawal, a suspension, an incident freeze, evidence going stale, its own token revoked.

**Why Server-Sent Events, served by an asyncio process.** A subscriber waits almost all the time. Long
polling would hold a gunicorn thread per waiting router and hand each change over in a new request (a
window where changes fall between polls, a cursor to carry); with 2 workers × 8 threads, sixteen idle
routers would take every thread and starve resolve. SSE is one plain HTTP response that stays open: it
passes proxies, needs no client library, and the browser's ``EventSource`` reads it too. It is served by
``uvicorn config.asgi:application`` (the proxy sends this path there), where a subscriber is a coroutine
waiting on a queue, not a thread: hundreds of idle subscribers cost memory, not the web server's threads
(``bench/stream.py`` measures resolve on gunicorn with and without them). Under WSGI the view answers 503
and the library keeps polling the snapshot.

**Fan-out through Redis.** Every invalidation, once its transaction commits, is announced on a Redis channel
(``routing.cache.announce``: the features whose stamps were renewed, whether who may ask changed, or
"anything" for a new epoch). Each
stream process listens once and keeps, per *visibility group* (subscribers who may see the same restricted
features), the answers its subscribers hold. On a feature change it recomputes that feature's routes once
per group (``snapshot.feature_entries``), compares them with what the group holds, and sends the
changed features' entries to each subscriber, signed for them. When who may ask changed (an account, a
role, a token, a feature's visibility) it re-checks every subscriber's token (revoked, expired,
deactivated: a ``revoked`` event, and the stream ends) and visibility (changed: a ``reset`` event, and the
subscriber fetches the snapshot again); on "anything" it does that and takes each group's kept snapshot
(``snapshot.kept``: one computation shared with the snapshot endpoint). Changes arriving
while one is being worked on are taken together. Without Redis (the embedded demo) the process watches
the routing generation twice a second instead.

**Evidence going stale** is not a commit: each group knows when each feature's first answer stops
holding (``valid_until``) and recomputes that feature then.

**Nothing about a feature a subscriber may not see** ever reaches them: a group's answers are computed
with its visibility, and a feature outside it has no entries to change.

Events (each ``data`` is one line of canonical JSON, sorted keys, with ``signature``: an HMAC-SHA256 of the
same JSON without it, keyed with the SHA-256 (hex) of the subscriber's token, as the snapshot's):

- ``hello`` ``{"version"}``: on connecting; a router holding another version fetches the snapshot;
- ``changes`` ``{"features": {slug: [entries]}, "version", "changed_at"}``: the new entries of each changed
  feature (``[]``: no longer any), and the snapshot's version once they are applied;
- ``reset`` ``{"version"}``: too much changed to send (or the subscriber fell behind): fetch the snapshot;
- ``revoked`` ``{"code", "detail"}``: the token no longer may; the stream ends.

A comment line (``: keepalive``) every ``KEEPALIVE_SECONDS`` keeps proxies from closing an idle stream and
lets the router tell a quiet stream from a dead one.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views import View
from rest_framework.exceptions import AuthenticationFailed

from registry.api.authentication import active_token
from registry.api.scopes import RESOLVE, accepted_scopes
from routing import cache, snapshot
from routing.auth import token_key

log = logging.getLogger(__name__)

KEEPALIVE_SECONDS = 15.0
RESET_OVER = 1000  # features changed at once beyond which subscribers are told to fetch the snapshot
QUEUE_LIMIT = 100  # events waiting for one subscriber beyond which it gets a reset instead
WATCH_SECONDS = 0.5  # without Redis: how often the routing generation is read


def _in_thread(function):
    """Database and cache work off the event loop, in a worker thread whose connections are closed after."""

    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return sync_to_async(run, thread_sensitive=False)


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    detail: str


@dataclass(frozen=True)
class Grant:
    token_id: int
    restricted: tuple[int, ...] | None
    expires_at: float | None


def identify(key_hash: str, scopes: frozenset[str]) -> Grant | Refusal:
    """What a token may follow now: the restricted features its user may see, or why it may not."""
    try:
        token = active_token(key_hash)
    except AuthenticationFailed as failed:
        return Refusal(401, failed.get_codes(), str(failed.detail))
    if not set(token.scopes) & scopes:
        return Refusal(403, "insufficient_scope", "This token's scopes do not include resolve, read or full.")
    return Grant(
        token.pk,
        snapshot.restricted_visible(token.user),
        token.expires_at.timestamp() if token.expires_at else None,
    )


def _current_snapshot(restricted):
    generation = cache.current_generation()  # before the database, as the snapshot endpoint reads it
    return snapshot.kept(restricted, now=timezone.now(), generation=generation)


def _first_end(entries: list[dict]) -> float | None:
    end = snapshot.first_end(entries)
    return None if end is None else end.timestamp()


@dataclass(eq=False)
class Group:
    """The answers held by the subscribers who may see the same restricted features."""

    restricted: tuple[int, ...] | None
    entries: dict[str, list[dict]] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    ends: dict[str, float] = field(default_factory=dict)
    version: str = ""
    subscribers: set = field(default_factory=set)

    def load(self, document: dict) -> list[str]:
        """Take a whole snapshot; the features whose answers changed."""
        grouped = snapshot.by_feature(document["entries"])
        gone = {slug: [] for slug in self.entries if slug not in grouped}
        return self.apply({**grouped, **gone})

    def apply(self, found: dict[str, list[dict]]) -> list[str]:
        """Take these features' entries (``[]``: none); the features whose answers changed."""
        changed = []
        now = time.time()
        for slug, entries in found.items():
            digest = snapshot.feature_digest(entries) if entries else None
            if digest == self.digests.get(slug):
                continue
            changed.append(slug)
            if entries:
                self.entries[slug], self.digests[slug] = entries, digest
            else:
                self.entries.pop(slug, None)
                self.digests.pop(slug, None)
        for slug in found:
            end = _first_end(self.entries.get(slug, []))
            if end is not None and end > now:
                self.ends[slug] = end
            else:
                self.ends.pop(slug, None)
        if changed or not self.version:
            self.version = snapshot.version_from(self.digests)
        return changed


@dataclass(eq=False)
class Subscriber:
    key_hash: str
    grant: Grant
    group: Group
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def send(self, name: str, payload: dict) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT:  # fallen behind: what it missed is in the snapshot
            while not self.queue.empty():
                self.queue.get_nowait()
            name, payload = "reset", {"version": self.group.version}
        self.queue.put_nowait((name, payload))

    def frame(self, name: str, payload: dict) -> bytes:
        body = {**payload, "type": name}
        body["signature"] = hmac.new(
            self.key_hash.encode(), snapshot.canonical(body), hashlib.sha256
        ).hexdigest()  # the holder computes the key: SHA-256 (hex) of the raw token
        return b"id: %d\nevent: %s\ndata: %s\n\n" % (next(self.ids), name.encode(), snapshot.canonical(body))


class Hub:
    """One per process (per event loop): the Redis subscription, the groups and their subscribers."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.groups: dict[tuple[int, ...] | None, Group] = {}
        self.lock = asyncio.Lock()
        self.wake = asyncio.Event()
        self.everything = False
        self.access = False
        self.features: set[str] = set()
        self.changed_at: float | None = None
        self.tasks: list[asyncio.Task] = []

    def start(self) -> None:
        if not self.tasks:
            # Their own context: not the first request's (its thread-sensitive executor ends with it).
            for work in (self._listen, self._work):
                self.tasks.append(self.loop.create_task(work(), context=contextvars.Context()))

    # --- Subscribers -------------------------------------------------------------------------------

    async def join(self, key_hash: str, grant: Grant) -> Subscriber:
        self.start()
        async with self.lock:
            group = await self._group(grant.restricted)
            subscriber = Subscriber(key_hash, grant, group)
            group.subscribers.add(subscriber)
            subscriber.send("hello", {"version": group.version})
        self.wake.set()  # the worker's next deadline may be this group's (or this token's expiry)
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        subscriber.group.subscribers.discard(subscriber)

    async def _group(self, restricted) -> Group:
        group = self.groups.get(restricted)
        if group is None:
            group = self.groups[restricted] = Group(restricted)
            group.load(await _in_thread(_current_snapshot)(restricted))
        return group

    async def events(self, subscriber: Subscriber):
        """The subscriber's response body: its events as they come, a keepalive when quiet."""
        try:
            while True:
                try:
                    name, payload = await asyncio.wait_for(subscriber.queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield b": keepalive\n\n"
                    continue
                yield subscriber.frame(name, payload)
                if name == "revoked":
                    return
        finally:
            self.leave(subscriber)

    # --- Changes -----------------------------------------------------------------------------------

    def changed(self, features: list[str] | None, at: float | None, *, access: bool = False) -> None:
        if features is None:
            self.everything = True
        else:
            self.features.update(features)
        self.access |= access
        at = at or time.time()
        self.changed_at = at if self.changed_at is None else min(self.changed_at, at)
        self.wake.set()

    async def _listen(self) -> None:
        backend = caches["default"]
        while True:
            try:
                if isinstance(backend, RedisCache):
                    await self._listen_to_redis(backend._servers[0])
                else:
                    await self._watch_generation()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("routing change stream: lost its source of changes; again in 1 s", exc_info=True)
            self.changed(None, None)  # something may have been missed meanwhile
            await asyncio.sleep(1)

    async def _listen_to_redis(self, url: str) -> None:
        import redis.asyncio as redis

        async with redis.from_url(url) as client, client.pubsub() as pubsub:
            await pubsub.subscribe(cache.changes_channel(client))
            self.changed(None, None)  # whatever happened before this process listened
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    change = json.loads(message["data"])
                    features = change.get("features")
                    self.changed(
                        None if features is None else [str(slug) for slug in features],
                        change.get("at"),
                        access=bool(change.get("access")),
                    )
                except (ValueError, TypeError, AttributeError):
                    log.warning("routing change stream: an announcement it cannot read; treated as anything")
                    self.changed(None, None)

    async def _watch_generation(self) -> None:
        read = _in_thread(cache.current_generation)
        last = await read()
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            now = await read()
            if now != last:
                last = now
                self.changed(None, time.time())

    def _next_end(self) -> float | None:
        ends = [end for group in self.groups.values() for end in group.ends.values()]
        ends += [
            subscriber.grant.expires_at
            for group in self.groups.values()
            for subscriber in group.subscribers
            if subscriber.grant.expires_at is not None
        ]
        return min(ends) if ends else None

    async def _work(self) -> None:
        while True:
            end = self._next_end()
            try:
                await asyncio.wait_for(self.wake.wait(), None if end is None else max(0.0, end - time.time()))
            except TimeoutError:
                pass
            self.wake.clear()
            everything, access, features, at = self.everything, self.access, self.features, self.changed_at
            self.everything, self.access, self.features, self.changed_at = False, False, set(), None
            try:
                async with self.lock:
                    self._drop_empty_groups()
                    if everything:
                        await self._everything(at)
                    else:
                        if access:
                            await self._access()
                        if features:
                            await self._some(features, at)
                    await self._expired()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("routing change stream: a change not worked out; trying everything again", exc_info=True)
                self.changed(None, at)
                await asyncio.sleep(1)

    def _drop_empty_groups(self) -> None:
        for restricted in [key for key, group in self.groups.items() if not group.subscribers]:
            del self.groups[restricted]

    def _tell(self, group: Group, changed: list[str], at: float | None) -> None:
        if not changed:
            return
        if len(changed) > RESET_OVER:
            name, payload = "reset", {"version": group.version}
        else:
            payload = {
                "features": {slug: group.entries.get(slug, []) for slug in changed},
                "version": group.version,
                "changed_at": at,
            }
            name = "changes"
        for subscriber in list(group.subscribers):
            subscriber.send(name, payload)

    async def _some(self, features: set[str], at: float | None) -> None:
        now = timezone.now()
        for group in list(self.groups.values()):
            found = await _in_thread(snapshot.feature_entries)(group.restricted, sorted(features), now=now)
            self._tell(group, group.apply(found), at)

    async def _everything(self, at: float | None) -> None:
        """Anything may have changed: who may follow, what they may see, any answer."""
        moved = await self._recheck()
        for group in list(self.groups.values()):
            if group.subscribers:
                self._tell(group, group.load(await _in_thread(_current_snapshot)(group.restricted)), at)
        await self._regroup(moved)

    async def _access(self) -> None:
        """Who may ask changed (an account, a role, a token, a feature's visibility), not the answers: each
        subscriber's token and what it may see are checked again; the groups' answers stay."""
        await self._regroup(await self._recheck())

    async def _recheck(self) -> list[Subscriber]:
        """Every subscriber's token checked again: the revoked are told and dropped; returns those whose
        visibility changed (out of their group)."""
        subscribers = [subscriber for group in self.groups.values() for subscriber in group.subscribers]
        key_hashes = sorted({subscriber.key_hash for subscriber in subscribers})
        scopes = accepted_scopes(StreamView, "get")
        found = await _in_thread(lambda: {key: identify(key, scopes) for key in key_hashes})()
        moved = []
        for subscriber in subscribers:
            now = found[subscriber.key_hash]
            if isinstance(now, Refusal):
                self.leave(subscriber)
                subscriber.send("revoked", {"code": now.code, "detail": now.detail})
            elif now.restricted != subscriber.group.restricted:
                self.leave(subscriber)
                subscriber.grant = now
                moved.append(subscriber)
            else:
                subscriber.grant = now
        return moved

    async def _regroup(self, moved: list[Subscriber]) -> None:
        for subscriber in moved:  # what they may see changed: they fetch their snapshot again
            subscriber.group = await self._group(subscriber.grant.restricted)
            subscriber.group.subscribers.add(subscriber)
            subscriber.send("reset", {"version": subscriber.group.version})

    async def _expired(self) -> None:
        now = time.time()
        for group in list(self.groups.values()):
            for subscriber in list(group.subscribers):
                if subscriber.grant.expires_at is not None and subscriber.grant.expires_at <= now:
                    self.leave(subscriber)
                    subscriber.send("revoked", {"code": "token_expired", "detail": "This token expired."})
            due = sorted(slug for slug, end in group.ends.items() if end <= now)
            if due:
                found = await _in_thread(snapshot.feature_entries)(group.restricted, due, now=timezone.now())
                self._tell(group, group.apply(found), now)


_hub: Hub | None = None


def hub() -> Hub:
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


def _refused(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse({"detail": detail, "code": code}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


_identifying = threading.BoundedSemaphore(4)
NO_TOKEN = "Send an API token: Authorization: Bearer <token>."


class StreamView(View):
    """``GET /api/v1/routing/stream/`` with an API token (scope ``resolve``, ``read`` or ``full``).

    A plain (sync) view: it checks the token in the request's thread, under WSGI and ASGI alike, and under
    ASGI returns a response whose body is an async generator, which Django streams on the event loop; the
    subscriber joins the hub when that body starts."""

    http_method_names = ["get"]
    token_scopes = {"get": {RESOLVE}}

    def get(self, request):
        key_hash = token_key(request)
        if key_hash is None:
            return _refused(401, "not_authenticated", NO_TOKEN)
        asgi = isinstance(request, ASGIRequest)
        if asgi:
            # Under ASGI each request has a thread of its own, and Django closes its database connection when
            # the response ends: for a stream, hours later. So a few at a time, and the connection closed at
            # once: hundreds of routers connecting together must not take PostgreSQL's connections.
            with _identifying:
                try:
                    grant = identify(key_hash, accepted_scopes(self, "get"))
                finally:
                    connections.close_all()
        else:
            grant = identify(key_hash, accepted_scopes(self, "get"))
        if isinstance(grant, Refusal):
            return _refused(grant.status, grant.code, grant.detail)
        if not asgi:
            return _refused(
                503,
                "stream_unavailable",
                "The change stream is served by the stream process (uvicorn config.asgi:application); "
                "poll GET /api/v1/routing/snapshot/ meanwhile.",
            )
        response = StreamingHttpResponse(_body(key_hash, grant), content_type="text/event-stream")
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on, not buffer them
        return response

    def http_method_not_allowed(self, request, *args, **kwargs):
        # Who asks comes first: without a token, any method answers 401, as every API route does.
        if token_key(request) is None:
            return _refused(401, "not_authenticated", NO_TOKEN)
        return _refused(405, "method_not_allowed", f'Method "{request.method}" not allowed.')


async def _body(key_hash: str, grant: Grant):
    current = hub()
    subscriber = await current.join(key_hash, grant)
    async for chunk in current.events(subscriber):
        yield chunk
