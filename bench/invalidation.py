#!/usr/bin/env python
"""Benchmark: a model suspended under 10 % of the features, at the resolve benchmark's scale.

Fills the database as ``bench/resolve.py`` does (``--reuse`` keeps a filled one) and adds one model, of a
vendor of its own, as the last fallback of every tenth feature's live version (``--share``). Starts
Gatehouse as in production on loopback: gunicorn (``config.wsgi``, 2 gthread workers × 8 threads, Redis
as the shared cache and Celery's broker) and one Celery worker. Every decision is warmed
(``routing_warm``) and every route asked once, so each web process holds them. Then:

1. **Suspension, no traffic: the worker warms the affected features.** Governance suspends the model
   through the service the page calls (``catalog_status_change``). Measured: the features whose stamps
   changed (only those pinning the model may), and the time from the commit until every affected route's
   new decision is in the shared cache, computed by the worker alone (no request asks meanwhile).
2. **The other 90 % never recompute.** wrk over the unaffected routes only, at concurrency 16: the
   database transactions per request (pg_stat_database; none when nothing is computed again).
3. **The cold path's worst case, under traffic.** Sixteen threads ask the affected routes in a loop
   while the model is reinstated; the latency of every request in the two seconds after the commit
   (some meet the cold path before the worker is done) against the steady latency before it.

Targets (the issue): the other 90 % never recompute; the affected ones warm again within 10 s. Exit status
0 when met. Run ``make bench-invalidation``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

TARGET_WARM_SECONDS = 10.0
RARE_VENDOR, RARE_MODEL = "bench-vendor-rare", "model-rare"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GATEHOUSE_INVALIDATION_BENCH_DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/gatehouse_invalidation_bench",
        ),
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/5", help="cache and broker; flushed first")
    parser.add_argument("--features", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--share", type=int, default=10, help="every Nth feature pins the model (default 10: 10%%)")
    parser.add_argument("--seconds", type=int, default=10, help="wrk seconds over the unaffected routes")
    parser.add_argument("--port", type=int, default=8751)
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
        "--features",
        str(ARGS.features),
        "--regions",
        str(ARGS.regions),
        "--port",
        str(ARGS.port),
        *(["--force"] if ARGS.force else []),
    ],
)
# This process suspends through the services: its invalidations and its warm-up task must reach the
# servers' Redis and the worker.
os.environ["GATEHOUSE_BENCH_CACHE_URL"] = os.environ["GATEHOUSE_BENCH_BROKER_URL"] = ARGS.cache_url
import resolve as rb  # noqa: E402  (sets Django up)

sys.argv = _argv

from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from registry.choices import Role  # noqa: E402
from registry.models import CatalogModel, FeatureVersion, Vendor, VersionFallback  # noqa: E402
from routing import cache as routing_cache  # noqa: E402
from routing.services import catalog_status_change  # noqa: E402

say = rb.say


def governance_admin():
    user, _ = rb.User.objects.get_or_create(username="bench-governance", defaults={"email": "gov@bench.invalid"})
    user.groups.add(Group.objects.get_or_create(name=Role.GOVERNANCE)[0])
    return rb.User.objects.get(pk=user.pk)


def pin_rare_model() -> list[str]:
    """Every ``--share``-th feature's live version gets the rare model as its last fallback. Returns their slugs."""
    vendor, _ = Vendor.objects.get_or_create(slug=RARE_VENDOR, defaults={"name": "Rare Vendor", "status": "approved"})
    model, made = CatalogModel.objects.get_or_create(
        vendor=vendor, identifier=RARE_MODEL, defaults={"display_name": "Rare model", "context_window": 128000}
    )
    if made:
        model.regions.set(rb.Region.objects.order_by("code")[: ARGS.regions])
    CatalogModel.objects.filter(pk=model.pk).update(status="approved")
    versions = FeatureVersion.objects.filter(
        feature__slug__in=[rb.SLUG.format(i) for i in range(0, ARGS.features, ARGS.share)]
    )
    pinned = set(VersionFallback.objects.filter(model=model).values_list("version_id", flat=True))
    rows = []
    for version in versions.exclude(pk__in=pinned):
        rows.append(VersionFallback(version=version, model=model, position=9))
    VersionFallback.objects.bulk_create(rows, batch_size=2000)
    return sorted(versions.values_list("feature__slug", flat=True))


def worker(env: dict) -> rb.Server:
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "config",
        "worker",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    server = rb.Server("worker", command, env, 0, rb.VAR / "invalidation-worker.log")
    server.description = "celery worker, concurrency 1"
    return server


def stamps(slugs: list[str]) -> dict[str, str]:
    found = routing_cache.get_many([routing_cache.FEATURE_KEY + slug for slug in slugs])
    return {slug: found.get(routing_cache.FEATURE_KEY + slug) for slug in slugs}


def warm(slugs: list[str], regions: list[str]) -> int:
    """How many of these features' routes have a decision in the shared cache under their current stamps."""
    epoch = routing_cache.get_many([routing_cache.EPOCH_KEY]).get(routing_cache.EPOCH_KEY)
    now = stamps(slugs)
    return sum(
        routing_cache.shared_get(epoch, ("production", slug, region), now[slug]) is not None
        for slug in slugs
        for region in regions
    )


def suspend(actor, model, flag: bool) -> float:
    committed = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))
        catalog_status_change(actor=actor, suspend=flag, reason="Benchmark.", model=model)
    return committed[0]


class Asker(threading.Thread):
    """Asks the given routes in a loop on one keep-alive connection; records (sent at, seconds, status)."""

    def __init__(self, port: int, token: str, routes: list[tuple[str, str]]):
        super().__init__(daemon=True)
        self.port, self.token, self.routes = port, token, routes
        self.samples: list[tuple[float, float, int]] = []
        self.stop = threading.Event()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        i = 0
        while not self.stop.is_set():
            slug, region = self.routes[i % len(self.routes)]
            i += 1
            sent = time.time()
            started = time.perf_counter()
            conn.request("GET", rb.RESOLVE_PATH.format(feature=slug, region=region), headers=headers)
            response = conn.getresponse()
            response.read()
            self.samples.append((sent, time.perf_counter() - started, response.status))
        conn.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


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
    affected = pin_rare_model()
    everyone = [rb.SLUG.format(i) for i in range(ARGS.features)]
    others = sorted(set(everyone) - set(affected))
    model = CatalogModel.objects.get(identifier=RARE_MODEL)
    say(
        f"  {len(affected):,} of {len(everyone):,} features ({len(affected) / len(everyone):.0%}) have {RARE_MODEL} "
        "as their last fallback"
    )
    token = rb.bench_token()
    actor = governance_admin()
    connection.close()

    rb.redis.Redis.from_url(ARGS.cache_url).flushdb()
    web = rb.gatehouse_server()
    web.env["CELERY_BROKER_URL"] = ARGS.cache_url
    tasks = worker(web.env)
    try:
        web.start()
        tasks.start()
        web.wait_ready(
            rb.RESOLVE_PATH.format(feature=rb.SLUG.format(0), region=regions[0]), {"Authorization": f"Bearer {token}"}
        )
        say(f"== Servers == {web.description}; {tasks.description}; Redis {ARGS.cache_url}")
        rb.prewarm(web)
        rb.warm_up(web, "gatehouse", regions, token, passes=2, limit=120)
        time.sleep(3)  # the worker is up (it has nothing to do yet)

        control = unaffected_traffic(web, regions, token)  # the same traffic before: what "no computation" looks like

        say("== 1. Suspension with no traffic: the worker warms the affected features ==")
        before = stamps(everyone)
        committed = suspend(actor, model, True)
        wanted = len(affected) * len(regions)
        ready_at = None
        while time.time() - committed < 60:
            if warm(affected, regions) == wanted:
                ready_at = time.time()
                break
            time.sleep(0.05)
        after = stamps(everyone)
        renewed = {slug for slug in everyone if after[slug] != before[slug]}
        warm_seconds = float("inf") if ready_at is None else ready_at - committed
        say(
            f"  stamps renewed: {len(renewed & set(affected)):,} of {len(affected):,} affected features, "
            f"{len(renewed - set(affected)):,} of {len(others):,} others"
        )
        say(
            f"  every affected route ({wanted:,}) warm in the shared cache {warm_seconds:.2f} s after the commit"
            if ready_at
            else "  the affected routes were not all warm within 60 s"
        )

        say(f"== 2. The other {len(others):,} features under traffic (concurrency 16, {ARGS.seconds} s) ==")
        figures = unaffected_traffic(web, regions, token)
        writes = figures["writes"]
        say(
            f"  {figures['requests']:,} requests, {figures['rps']:,.0f}/s, p99 {figures['p99_us'] / 1000:.1f} ms; "
            f"decisions written to the shared cache (each computation writes its feature's): {writes:,}; "
            f"database transactions: {figures['transactions']:,} (the same traffic before the suspension: "
            f"{control['transactions']:,}, {control['writes']:,} writes)"
        )

        say("== 3. Reinstatement under traffic on the affected routes (16 threads) ==")
        routes = [(slug, region) for slug in affected for region in regions]
        askers = [Asker(web.port, token, routes[i::16]) for i in range(16)]
        for asker in askers:
            asker.start()
        time.sleep(3)
        committed = suspend(actor, model, False)
        time.sleep(4)
        for asker in askers:
            asker.stop.set()
        for asker in askers:
            asker.join(30)
        samples = [sample for asker in askers for sample in asker.samples]
        steady = [s[1] * 1000 for s in samples if committed - 2 <= s[0] < committed]
        cold = [s[1] * 1000 for s in samples if committed <= s[0] < committed + 2]
        later = [s[1] * 1000 for s in samples if committed + 2 <= s[0]]
        errors = sum(s[2] != 200 for s in samples)
        for label, values in (("2 s before", steady), ("2 s after", cold), ("after that", later)):
            say(
                f"  {label:<11} {len(values):>6,} requests: p50 {statistics.median(values):6.2f} ms  "
                f"p99 {percentile(values, 0.99):6.2f} ms  max {max(values):7.2f} ms"
            )
        say(f"  answers other than 200: {errors}")
    finally:
        tasks.stop()
        web.stop()

    met = ready_at is not None and warm_seconds <= TARGET_WARM_SECONDS and not (renewed - set(affected))
    met &= writes == 0
    say("")
    say(
        f"Verdict: {'MET' if met else 'NOT MET'} (targets: the other {len(others):,} features never recompute: "
        f"{len(renewed - set(affected))} stamps renewed, {writes} decisions computed under traffic; the affected "
        f"ones warm within {TARGET_WARM_SECONDS:.0f} s: {warm_seconds:.2f} s)"
    )
    return 0 if met else 1


def shared_cache_writes() -> int:
    """Write commands the Redis server has processed so far: a decision computed on the request path is
    shared (written); an answer from memory or from the shared cache writes nothing."""
    stats = rb.redis.Redis.from_url(ARGS.cache_url).info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("set", "setex", "psetex", "mset", "setnx"))


def unaffected_traffic(web: rb.Server, regions: list[str], token: str) -> dict:
    """wrk at concurrency 16 over the unaffected features' routes only: requests, the shared cache's
    writes and the database's transactions meanwhile."""
    script = unaffected_script(rb.lua_script("gatehouse", regions, token, close=False, connections=16))
    try:
        transactions, _ = rb.database_counters(rb.DB)
        writes = shared_cache_writes()
        figures = rb.wrk(web.port, script, 16, ARGS.seconds)
        figures["writes"] = shared_cache_writes() - writes
        time.sleep(rb.STATS_DELAY)
        figures["transactions"] = rb.database_counters(rb.DB)[0] - transactions
    finally:
        script.unlink(missing_ok=True)
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def unaffected_script(script: Path) -> Path:
    """wrk's script, drawing only the keys of features that do not pin the model (number % share != 0)."""
    drawn = "key = math.random(0, features * #regions - 1)"
    text = script.read_text()
    if drawn not in text:
        sys.exit("the resolve benchmark's wrk script changed: cannot restrict it to the unaffected features")
    script.write_text(text.replace(drawn, f"repeat {drawn} until math.floor(key / #regions) % {ARGS.share} ~= 0"))
    return script


if __name__ == "__main__":
    sys.exit(main())
