#!/usr/bin/env python
"""Benchmark: the routing change stream, at the resolve benchmark's scale.

Fills the database as ``bench/resolve.py`` does (``--reuse`` keeps a filled one), starts Gatehouse as in
production on loopback: gunicorn (``config.wsgi``, 2 gthread workers × 8 threads, Redis as the shared
cache) and the stream process (``uvicorn config.asgi:application``), then measures:

1. **Idle subscribers do not starve requests.** Resolve at concurrency 16 (wrk) for ``--seconds``, first
   with no subscriber, then with ``--idle`` subscribers connected to the stream and waiting (each got its
   ``hello``), and checks they are all still connected afterwards.
2. **Propagation.** ``--subscribers`` subscribers read the stream in threads of this process; ``--changes``
   features are renamed, one at a time, through the service the pages call (``feature_update``, as a
   governance admin: the name is part of every answer, so each rename changes that feature's answers).
   For each rename, the time from its commit (an ``on_commit`` callback registered first) to the moment
   each subscriber has the changed entries. Then the same number of renames at once, back to back.

3. **Outage.** An in-process resolver (``gatehouse_client.local.LocalResolver``, as a router runs it,
   recording each answer for the decision ledger) follows the stream; the web server and the stream process
   are stopped for ``--outage`` seconds (60) while it keeps answering about a thousand times a second, and a
   feature is renamed halfway through (the database stays up). Then both are started again: the seconds
   until the resolver answers with the rename, and until every answer given during the outage is in the
   ledger.

Targets (the issue): p99 ≤ 1 s from commit to every subscriber (100 changes, 50 subscribers); resolve
with the idle subscribers within 10 % of without; every answer asked during the outage given, and the
change made during it caught up after. Exit status 0 when met. Run ``make bench-stream``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "client")]

TARGET_P99_SECONDS = 1.0
TARGET_IDLE_SHARE = 0.90


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GATEHOUSE_STREAM_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_local_bench"
        ),
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/5", help="flushed before the run")
    parser.add_argument("--features", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--subscribers", type=int, default=50)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--idle", type=int, default=500, help="idle subscribers while resolve is measured")
    parser.add_argument("--seconds", type=int, default=15, help="wrk seconds per resolve measurement")
    parser.add_argument("--port", type=int, default=8741, help="gunicorn's port; the stream's is the next one")
    parser.add_argument(
        "--outage", type=int, default=60, help="seconds the web server and stream are stopped (0: skip that part)"
    )
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled at this scale")
    parser.add_argument("--force", action="store_true", help="allow database names that lack 'bench'")
    return parser.parse_args()


ARGS = parse_args()
_argv, sys.argv = (
    sys.argv,
    [
        sys.argv[0],
        "--database-url",
        ARGS.database_url,
        "--cache-url",
        ARGS.cache_url,
        "--features",
        str(ARGS.features),
        "--regions",
        str(ARGS.regions),
        "--port",
        str(ARGS.port),
        *(["--force"] if ARGS.force else []),
    ],
)
# This process renames features through the services: its invalidations must reach the servers' Redis.
os.environ["GATEHOUSE_BENCH_CACHE_URL"] = ARGS.cache_url
import resolve as rb  # noqa: E402  (sets Django up)

sys.argv = _argv

from django.contrib.auth.models import Group  # noqa: E402
from django.db import transaction  # noqa: E402

from registry.choices import Role  # noqa: E402
from registry.models import AIFeature  # noqa: E402
from registry.services import feature_update  # noqa: E402
from routing.models import DecisionRecord  # noqa: E402

say = rb.say
STREAM_PATH = "/api/v1/routing/stream/"
RUN = time.strftime("%H%M%S")  # each run's names differ from the last's (a rename to the same name changes nothing)


def stream_server(gunicorn: rb.Server) -> rb.Server:
    port = ARGS.port + 1
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--backlog",
        "4096",
    ]
    server = rb.Server("stream", command, gunicorn.env, port, rb.VAR / "stream-uvicorn.log")
    server.description = "uvicorn, one process (asyncio)"
    return server


class Reader:
    """One subscriber, read by a thread: when each feature's changed entries arrived."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.connection.request("GET", STREAM_PATH, headers={"Authorization": f"Bearer {token}"})
        self.socket = self.connection.sock  # kept: the connection lets go of it once the response is read
        self.response = self.connection.getresponse()
        if self.response.status != 200:
            sys.exit(f"the stream answered {self.response.status}: {self.response.read()[:300]!r}")
        self.arrivals: queue.Queue = queue.Queue()
        self.hello = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name = None
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    name = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    now = time.time()
                    if name == "hello":
                        self.hello.set()
                    elif name == "changes":
                        for slug in json.loads(line.partition(":")[2])["features"]:
                            self.arrivals.put((slug, now))
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass

    def close(self) -> None:
        # Shut the socket down first: closing the response while the reading thread waits in it would wait
        # for the stream's next keepalive (up to 15 s a subscriber).
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.connection.close()


def idle_subscribers(port: int, token: str, count: int) -> list[socket.socket]:
    """``count`` subscribers that connect, read up to their hello, and then only wait (nothing reads them)."""
    request = f"GET {STREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        sock.sendall(request)
        sockets.append(sock)
    for sock in sockets:
        seen = b""
        while b"event: hello" not in seen:
            chunk = sock.recv(65536)
            if not chunk:
                sys.exit("an idle subscriber was closed before its hello")
            seen += chunk
    return sockets


def still_connected(sockets: list[socket.socket]) -> int:
    """How many idle subscribers' streams are still open (a closed one reads as end of file)."""
    alive = 0
    for sock in sockets:
        sock.setblocking(False)
        try:
            alive += sock.recv(65536) != b""
        except BlockingIOError:
            alive += 1  # nothing to read, not closed
        except OSError:
            pass
    return alive


def resolve_rate(server: rb.Server, regions: list[str], token: str) -> dict:
    script = rb.lua_script("gatehouse", regions, token, close=False, connections=16)
    try:
        figures = rb.wrk(server.port, script, 16, ARGS.seconds)
    finally:
        script.unlink(missing_ok=True)
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["p99_ms"] = figures["p99_us"] / 1000
    return figures


def governance_admin():
    user, _ = rb.User.objects.get_or_create(username="bench-governance", defaults={"email": "gov@bench.invalid"})
    user.groups.add(Group.objects.get_or_create(name=Role.GOVERNANCE)[0])
    return rb.User.objects.get(pk=user.pk)


def rename(actor, feature: AIFeature, round_: int) -> float:
    """Rename through the service; returns the moment its transaction committed."""
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # first: runs at the commit, before the rest
        feature_update(actor=actor, feature=feature, reason="Benchmark rename.", name=f"Bench feature {round_} ({RUN})")
    return committed[0]


def propagation(readers: list[Reader], actor, features: list[AIFeature], *, paced: bool) -> list[float]:
    """Seconds from each rename's commit to each subscriber having it."""
    for reader in readers:
        while not reader.arrivals.empty():
            reader.arrivals.get_nowait()
    commits, samples = {}, []
    for round_, feature in enumerate(features):
        commits[feature.slug] = rename(actor, feature, round_ + (0 if paced else len(features)))
        if paced:  # wait until everyone has it, so each change is measured alone
            samples += wait_all(readers, {feature.slug}, commits)
    return samples if paced else wait_all(readers, set(commits), commits)


def wait_all(readers: list[Reader], slugs: set[str], commits: dict[str, float]) -> list[float]:
    samples = []
    for reader in readers:
        wanted = set(slugs)
        deadline = time.monotonic() + 30
        while wanted:
            try:
                slug, at = reader.arrivals.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                sys.exit(f"a subscriber did not get {sorted(wanted)[:5]} within 30 s")
            if slug in wanted:
                wanted.discard(slug)
                samples.append(at - commits[slug])
    return samples


def restarted(server: rb.Server) -> rb.Server:
    """The same server again (same command and environment: the same secret key signs its tokens)."""
    again = rb.Server(server.name, server.command, server.env, server.port, server.log.with_suffix(".restarted.log"))
    again.description = server.description
    return again


def outage(web: rb.Server, stream: rb.Server, token: str, regions: list[str], actor) -> tuple[dict, list]:
    """Part 3: returns the figures and the servers running afterwards."""
    from gatehouse_client import Client, GatehouseError
    from gatehouse_client.local import LocalResolver

    url = f"http://127.0.0.1:{web.port}"
    local = LocalResolver(
        Client(url, token, timeout=60, cache_seconds=0),
        stream_url=f"http://127.0.0.1:{stream.port}",
        ledger_seconds=1.0,
        serve_stale_seconds=300,
    )
    local.refresh()  # the snapshot, before anything is measured
    deadline = time.monotonic() + 120
    while not local.streaming or len(local.routes()) < len(regions) * ARGS.features:
        if time.monotonic() > deadline:
            sys.exit(
                f"the in-process resolver had {len(local.routes()):,} routes and streaming={local.streaming} after 120 s"
            )
        time.sleep(0.1)
    while local._pending:  # the ledger starts empty
        local.flush()
    recorded_before = DecisionRecord.objects.count()
    feature = AIFeature.objects.order_by("slug")[ARGS.changes * 2]
    routes = [(rb.SLUG.format(i), region) for i in range(ARGS.features) for region in regions]
    answers = errors = 0
    first_error = ""
    stopped = time.monotonic()
    for server in (web, stream):
        server.stop()
    renamed_at = None
    new_name = f"Renamed during the outage ({RUN})"
    index = 0
    while time.monotonic() - stopped < ARGS.outage:
        if renamed_at is None and time.monotonic() - stopped >= ARGS.outage / 2:
            with transaction.atomic():
                feature_update(actor=actor, feature=feature, reason="Benchmark outage rename.", name=new_name)
            renamed_at = time.monotonic()
        slug, region = routes[index % len(routes)]
        index += 7919
        try:
            local.resolve(slug, region)
            answers += 1
        except GatehouseError as error:
            errors += 1
            first_error = first_error or str(error)
        time.sleep(0.001)
    outage_seconds = time.monotonic() - stopped
    pending = len(local._pending)
    web, stream = restarted(web), restarted(stream)
    started = time.monotonic()
    for server in (web, stream):
        server.start()
    web.wait_ready(
        rb.RESOLVE_PATH.format(feature=rb.SLUG.format(0), region=regions[0]), {"Authorization": f"Bearer {token}"}
    )
    caught_up = ledger_done = None
    while time.monotonic() - started < 180 and (caught_up is None or ledger_done is None):
        if caught_up is None and local.resolve(feature.slug, regions[0])["feature"]["name"] == new_name:
            caught_up = time.monotonic() - started
        if ledger_done is None and DecisionRecord.objects.count() - recorded_before >= answers:
            ledger_done = time.monotonic() - started
        time.sleep(0.05)
    local.close()
    return (
        {
            "seconds": outage_seconds,
            "answers": answers,
            "errors": errors,
            "first_error": first_error,
            "pending": pending,
            "caught_up": caught_up,
            "ledger_done": ledger_done,
            "recorded": DecisionRecord.objects.count() - recorded_before,
            "streaming": local.streaming,
        },
        [web, stream],
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    say("== Data ==")
    step = time.perf_counter()
    if ARGS.reuse and rb.gatehouse_dataset_ready(ARGS.features):
        say(f"  reusing {rb.DB['NAME']}")
    else:
        rb.fs.recreate_database()
        rb.generate(ARGS.features, 20261123)
        say(f"  generated {ARGS.features:,} features in {time.perf_counter() - step:.1f} s")
    regions = list(rb.Region.objects.order_by("code").values_list("code", flat=True)[: ARGS.regions])
    token = rb.bench_token()
    actor = governance_admin()
    rb.connection.close()

    rb.redis.Redis.from_url(ARGS.cache_url).flushdb()
    web = rb.gatehouse_server()
    stream = stream_server(web)
    servers = [web, stream]
    try:
        for server in servers:
            server.start()
        headers = {"Authorization": f"Bearer {token}"}
        web.wait_ready(rb.RESOLVE_PATH.format(feature=rb.SLUG.format(0), region=regions[0]), headers)
        step = time.perf_counter()
        stream.wait_ready(STREAM_PATH, headers, timeout=300)  # its first subscriber loads the group's snapshot
        say(
            f"== Servers == {web.description}; stream: {stream.description} (first subscriber: {time.perf_counter() - step:.1f} s)"
        )
        rb.prewarm(web)
        rb.warm_up(web, "gatehouse", regions, token, passes=2, limit=120)

        say("== Idle subscribers and resolve (concurrency 16) ==")
        alone = resolve_rate(web, regions, token)
        step = time.perf_counter()
        idle = idle_subscribers(stream.port, token, ARGS.idle)
        connected = time.perf_counter() - step
        rss, _ = rb.memory_mb(stream.pids())
        beside = resolve_rate(web, regions, token)
        alive = still_connected(idle)
        for sock in idle:
            sock.close()
        share = beside["rps"] / alone["rps"]
        say(f"  without subscribers       {alone['rps']:>10,.0f} requests/s  p99 {alone['p99_ms']:.1f} ms")
        say(
            f"  with {ARGS.idle} idle subscribers {beside['rps']:>10,.0f} requests/s  p99 {beside['p99_ms']:.1f} ms"
            f"  ({share:.0%}; {alive}/{ARGS.idle} still connected after; connected in {connected:.1f} s; "
            f"stream process {rss:.0f} MB)"
        )

        say(f"== Propagation: {ARGS.changes} renames, {ARGS.subscribers} subscribers ==")
        readers = [Reader(stream.port, token) for _ in range(ARGS.subscribers)]
        for reader in readers:
            if not reader.hello.wait(120):
                sys.exit("a subscriber got no hello within 120 s")
        features = list(AIFeature.objects.order_by("slug")[: ARGS.changes * 2])
        paced = propagation(readers, actor, features[: ARGS.changes], paced=True)
        step = time.perf_counter()
        burst = propagation(readers, actor, features[ARGS.changes :], paced=False)
        burst_seconds = time.perf_counter() - step
        for reader in readers:
            reader.close()
        for label, samples in (("one at a time", paced), (f"back to back ({burst_seconds:.1f} s)", burst)):
            say(
                f"  {label:<26} {len(samples):,} arrivals: p50 {statistics.median(samples) * 1000:.0f} ms, "
                f"p99 {percentile(samples, 0.99) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms"
            )

        down = None
        if ARGS.outage:
            say(f"== Outage: the web server and the stream stopped for {ARGS.outage} s ==")
            down, servers = outage(web, stream, token, regions, actor)
            say(
                f"  in-process resolver during {down['seconds']:.0f} s: {down['answers']:,} answers, {down['errors']:,} "
                f"errors{' (' + down['first_error'][:200] + ')' if down['errors'] else ''}; {down['pending']:,} "
                "ledger records waiting"
            )
            say(
                "  after the restart: the rename made during the outage answered in "
                + (f"{down['caught_up']:.1f} s" if down["caught_up"] is not None else "NEVER (180 s)")
                + "; every answer of the outage in the ledger in "
                + (f"{down['ledger_done']:.1f} s" if down["ledger_done"] is not None else "NEVER (180 s)")
                + f" ({down['recorded']:,} recorded)"
            )
    finally:
        for server in servers:
            server.stop()

    p99 = max(percentile(paced, 0.99), percentile(burst, 0.99))
    met = p99 <= TARGET_P99_SECONDS and share >= TARGET_IDLE_SHARE and alive == ARGS.idle
    if down is not None:
        met &= not down["errors"] and down["caught_up"] is not None and down["ledger_done"] is not None
        say("")
        say(
            f"Outage: {'MET' if not down['errors'] and down['caught_up'] is not None else 'NOT MET'} (every answer "
            f"given through a {down['seconds']:.0f} s stop: {down['errors']} errors; the change made meanwhile caught "
            f"up after: {down['caught_up'] is not None})"
        )
    say("")
    say(
        f"Verdict: {'MET' if met else 'NOT MET'} (targets: p99 <= {TARGET_P99_SECONDS:.0f} s from commit to every "
        f"subscriber, got {p99 * 1000:.0f} ms; resolve with {ARGS.idle} idle subscribers >= "
        f"{TARGET_IDLE_SHARE:.0%} of without, got {share:.0%}, all still connected: {alive == ARGS.idle})"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
