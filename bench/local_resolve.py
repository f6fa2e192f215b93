#!/usr/bin/env python
"""Benchmark: in-process resolve from the routing snapshot, at the resolve benchmark's scale.

Fills the database as ``bench/resolve.py`` does (5,000 features live in production in three regions:
15,000 routes; ``--reuse`` keeps a filled one), then, in this process, with the benchmark's router token:

1. builds the routing snapshot as ``GET /api/v1/routing/snapshot/`` does (``routing.snapshot.build``) and
   times it;
2. checks every route's in-process answer (``gatehouse_client.local.LocalResolver``) equals the server's
   (``routing.services.resolve``, the function behind ``GET /api/v1/resolve/``), less the decision token and
   the time, and that each decision token is one the server reads;
3. times ``LocalResolver.resolve`` on one core over random routes for ``--seconds``, recording each answer
   for the decision ledger (as a router does) and without.

Targets (the issue): at least 200,000 answers/s on one core, and the same answer as the server for every
route. Exit status 0 when met. Run ``make bench-local-resolve`` or ``.venv/bin/python bench/local_resolve.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "client")]

TARGET_PER_SECOND = 200_000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GATEHOUSE_LOCAL_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/gatehouse_local_bench"
        ),
    )
    parser.add_argument("--features", type=int, default=5000)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per timing (default 5)")
    parser.add_argument("--reuse", action="store_true", help="keep a database already filled at this scale")
    parser.add_argument("--force", action="store_true", help="allow database names that lack 'bench'")
    return parser.parse_args()


ARGS = parse_args()
# bench/resolve.py fills the data; it reads its own command line when imported.
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
        *(["--force"] if ARGS.force else []),
    ],
)
os.environ.setdefault("CACHE_URL", "locmem://")
import resolve as rb  # noqa: E402  (sets Django up)

sys.argv = _argv

from django.utils import timezone  # noqa: E402

from gatehouse_client.api import Client  # noqa: E402
from gatehouse_client.local import LocalResolver  # noqa: E402
from registry.models import ApiToken  # noqa: E402
from routing import snapshot, tokens  # noqa: E402
from routing.services import resolve as server_resolve  # noqa: E402

say = rb.say


def main() -> int:
    say("== Data ==")
    step = time.perf_counter()
    if ARGS.reuse and rb.gatehouse_dataset_ready(ARGS.features):
        say(f"  reusing {rb.DB['NAME']}")
    else:
        rb.fs.recreate_database()
        rb.generate(ARGS.features, 20261123)
        say(f"  generated {ARGS.features:,} features in {time.perf_counter() - step:.1f} s")
    raw = rb.bench_token()
    token = ApiToken.objects.select_related("user").get(key_hash=ApiToken.hash_key(raw))
    user = token.user

    say("== Snapshot ==")
    step = time.perf_counter()
    document = snapshot.build(user, auth=token, now=timezone.now())
    built = time.perf_counter() - step
    entries = document["entries"]
    say(f"  {len(entries):,} routes, built in {built:.2f} s, version {document['version']}")

    local = LocalResolver(Client("http://127.0.0.1:9", raw), start=False)
    local._load(document)  # signature checked as the library does on a fetched snapshot
    say("  signature checked with the token's digest")

    say("== Same answers as the server ==")
    step = time.perf_counter()
    differ = 0
    for environment, feature, region in local.routes():
        mine = local.resolve(feature, region, environment)
        server = server_resolve(user=user, feature_slug=feature, region_code=region, environment=environment)
        theirs = json.loads(server.body)
        strip = ("decision", "resolved_at", "request_id")
        if {k: v for k, v in mine.items() if k not in strip} != {k: v for k, v in theirs.items() if k not in strip}:
            differ += 1
        tokens.read(mine["decision"])  # a token the server reads
    say(f"  {len(entries):,} routes compared in {time.perf_counter() - step:.1f} s: {differ} differ")

    say("== In-process resolve on one core ==")
    routes = local.routes()
    rng = random.Random(1)
    asked = [routes[rng.randrange(len(routes))] for _ in range(100_000)]
    figures = {}
    for record in (True, False):
        local.record = record
        local._pending.clear()
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < ARGS.seconds:
            for environment, feature, region in asked:
                local.resolve(feature, region, environment)
            done += len(asked)
        rate = done / (time.perf_counter() - start)
        figures[record] = rate
        say(f"  {'recording for the ledger' if record else 'without recording':<26} {rate:>12,.0f} answers/s")
    local._pending.clear()

    met = differ == 0 and figures[True] >= TARGET_PER_SECOND
    say("")
    say(
        f"Verdict: {'MET' if met else 'NOT MET'} (target: every answer equal, >= {TARGET_PER_SECOND:,} answers/s "
        f"recording; got {differ} differing, {figures[True]:,.0f}/s)"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
