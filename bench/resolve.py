#!/usr/bin/env python
"""Benchmark: resolve under gunicorn against MLflow's alias lookup, at concurrency 1 and 16, with wrk.

Gatehouse: a fresh PostgreSQL database (drop, create, ``migrate``) holding 5,000 active features, each
with one submitted version (a primary model hosted in the three benchmark regions, one or two fallback
models, a prompt, a policy pack allowing the three regions) live in production in three regions, and a
user with an API token. The app runs under gunicorn with production settings (debug off, Redis as the
shared cache on database 5) on loopback; ``GET /api/v1/resolve/?feature=..&region=..&environment=production``
is asked for a random (feature, region) of the 15,000 on every request.

MLflow: its own virtualenv (``var/bench/mlflow-venv``, made when missing), a PostgreSQL backend store
(database ``mlflow_bench``, dropped and recreated), 5,000 registered models named like the features,
each with one version and the alias ``champion``, and ``mlflow server --workers 4`` on loopback;
``GET /api/2.0/mlflow/registered-models/alias?name=..&alias=champion`` for a random model per request.

Each server is warmed up, then measured by wrk for ``--duration`` seconds at each concurrency, once
with keep-alive connections and once with ``Connection: close`` (a new connection per request). The
table gives requests/s, p50 and p99 latency, errors, the TCP connections the server accepted, the
server's CPU time per request and the memory (RSS) of its process tree. The baselines
(``bench/minimal_site.py``: a bare WSGI function, a minimal Django view, the same view behind Gatehouse's
middleware) run on the same gunicorn command line with a body of resolve's size. Targets (the issue): at
concurrency 16 at least 20x MLflow's throughput in MLflow's better mode, p99 at most 20 ms, and at least 2/3
of the minimal Django view's throughput.

Run it with ``make bench-resolve`` or ``.venv/bin/python bench/resolve.py --help``. The databases are
dropped and recreated: their names must contain "bench" unless --force.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

# The endpoint under test, and MLflow's. {feature} is the feature's slug (also the MLflow model's
# name), {region} a region code.
RESOLVE_PATH = "/api/v1/resolve/?feature={feature}&region={region}&environment=production"
MLFLOW_PATH = "/api/2.0/mlflow/registered-models/alias?name={feature}&alias=champion"
# The baselines' path (bench/minimal_site.py): the same query, the same size of answer.
MINIMAL_PATH = "/bench/minimal/?feature={feature}&region={region}&environment=production"
# The baselines served by the same gunicorn: name -> (WSGI target, BENCH_MIDDLEWARE, what it is).
BASELINES = {
    "bare-wsgi": ("minimal_site:bare", "none", "a WSGI function returning the same body"),
    "django-min": ("minimal_site:django_application()", "none", "a minimal Django view (no middleware)"),
    "django-app": (
        "minimal_site:django_application()",
        "project",
        "the same view behind Gatehouse's middleware",
    ),
}
SLUG = "feature-{:05d}"

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/gatehouse_resolve_bench"
URL_ENV = "GATEHOUSE_RESOLVE_BENCH_DATABASE_URL"
DEFAULT_MLFLOW_URL = "postgres://postgres@127.0.0.1:5432/mlflow_bench"
CACHE_URL = "redis://127.0.0.1:6379/5"  # the benchmark's own Redis database: flushed before each run
MLFLOW_REQUIREMENTS = ["mlflow>=3.17,<3.18", "psycopg[binary]>=3.2,<3.4"]
TARGET_RATIO = 20.0
TARGET_P99_MS = 20.0
TARGET_OF_MINIMAL = 2 / 3  # of the minimal Django view's throughput on the same server


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        help=f"Gatehouse's PostgreSQL database to (re)create (env {URL_ENV}; default {DEFAULT_URL})",
    )
    parser.add_argument(
        "--mlflow-database-url",
        default=DEFAULT_MLFLOW_URL,
        help=f"MLflow's backend store, (re)created (default {DEFAULT_MLFLOW_URL})",
    )
    parser.add_argument("--features", type=int, default=5000, help="features (and MLflow models); default 5000")
    parser.add_argument("--regions", type=int, default=3, help="production regions per feature (default 3)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement (default 20)")
    parser.add_argument("--concurrency", default="1,16", help="comma-separated wrk connection counts (default 1,16)")
    parser.add_argument(
        "--modes",
        default="keepalive,close",
        help="keepalive (reuse connections) and/or close (Connection: close, a new connection "
        "per request); default both",
    )
    parser.add_argument(
        "--only",
        choices=["gatehouse", "mlflow", "baselines"],
        help="measure one server only (baselines: the bare WSGI function and the Django views)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="gunicorn workers (default: one per core with gthread; 2 x cores + 1 with sync)",
    )
    parser.add_argument(
        "--worker-class",
        choices=["gthread", "sync"],
        default="gthread",
        help="gunicorn worker class (default gthread: keeps connections alive, and fewer "
        "processes keep fewer separate decision caches; sync closes every connection)",
    )
    parser.add_argument("--threads", type=int, default=8, help="threads per gthread worker (default 8)")
    parser.add_argument(
        "--warmup-passes",
        type=int,
        default=0,
        help="passes over every (feature, region) before measuring (default 1: a decision one "
        "worker computed is shared with the others through Redis)",
    )
    parser.add_argument(
        "--warmup-limit",
        type=int,
        default=60,
        help="at most this many seconds of request warm-up (default 60; MLflow: at most 30)",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="skip 'manage.py routing_warm' before the request warm-up: every decision is then "
        "first computed by a request (a miss: the feature's routes, eight queries)",
    )
    parser.add_argument(
        "--cache-seconds",
        type=int,
        default=0,
        help="ROUTING_CACHE_SECONDS for the server (default: the app's own, 300 s): how long the "
        "shared cache offers a decision to other processes",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="SECONDS",
        help="Gatehouse only: after one warm-up, wrk for SECONDS in windows of --window seconds at "
        "the highest --concurrency (keep-alive), each window's throughput and the lowest as a "
        "share of the steady one (the median window); target: no window below 80%%",
    )
    parser.add_argument("--window", type=int, default=30, help="seconds per soak window (default 30)")
    parser.add_argument(
        "--cache-url", default=CACHE_URL, help=f"the server's Redis, flushed before the run (default {CACHE_URL})"
    )
    parser.add_argument("--mlflow-workers", type=int, default=4, help="mlflow server --workers (default 4)")
    parser.add_argument(
        "--mlflow-venv",
        default=str(ROOT / "var" / "bench" / "mlflow-venv"),
        help="MLflow's virtualenv, created with pip when missing (default var/bench/mlflow-venv)",
    )
    parser.add_argument("--port", type=int, default=8731, help="Gatehouse's port (MLflow's is the next one)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep databases that already hold this many features / models (seconds instead "
        "of minutes; a new API token is made)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="after measuring, N resolves in this process through Django's test client under "
        "cProfile (from memory, from the shared cache, computed), to see where the time goes",
    )
    parser.add_argument("--no-scale-out", action="store_true", help="skip the 1 and 2 processes and two servers runs")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--force", action="store_true", help="allow database names that lack 'bench'")
    return parser.parse_args()


ARGS = parse_args()
CACHE_URL = ARGS.cache_url

# Settings for this process (data generation), before Django starts. bench/freshness_sweep.py sets up
# Django the same way when imported (debug off, throwaway key, in-memory broker); its database helpers
# are reused, so it parses a command line naming our database.
os.environ["DATABASE_URL"] = ARGS.database_url
_argv, sys.argv = sys.argv, [sys.argv[0], "--database-url", ARGS.database_url]
import freshness_sweep as fs  # noqa: E402  (runs django.setup())

sys.argv = _argv

import dj_database_url  # noqa: E402
import django  # noqa: E402
import psycopg  # noqa: E402
import redis  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from psycopg import sql  # noqa: E402

from registry.models import (  # noqa: E402
    AIFeature,
    CatalogModel,
    Deployment,
    DeploymentEvent,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    Region,
    Team,
    Vendor,
    VersionFallback,
)
from registry.services.tokens import api_token_create  # noqa: E402

User = get_user_model()
say = fs.say
DB = dj_database_url.parse(ARGS.database_url)
MLFLOW_DB = dj_database_url.parse(ARGS.mlflow_database_url)
VAR = ROOT / "var" / "bench"


# --- Gatehouse's data ------------------------------------------------------------------------------


def gatehouse_dataset_ready(features: int) -> bool:
    if not fs.database_exists():
        return False
    try:
        return AIFeature.objects.count() == features and Deployment.objects.count() == features * ARGS.regions
    except Exception:
        connection.close()
        return False


def generate(features_wanted: int, seed: int) -> list[str]:
    """Fill the migrated database: every feature live in production in the same regions. Returns their codes."""
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    regions = list(Region.objects.order_by("code"))
    if len(regions) < ARGS.regions:
        sys.exit(f"only {len(regions)} regions exist (from the migrations); asked for {ARGS.regions}")
    live = regions[: ARGS.regions]
    system = User.objects.create(username="bench-ci", email="ci@bench.invalid", password="!")

    n_teams = max(5, features_wanted // 100)
    groups = Group.objects.bulk_create([Group(name=f"bench-team-{i:04d}") for i in range(n_teams)])
    teams = Team.objects.bulk_create(
        [Team(slug=f"team-{i:04d}", name=f"Team {i:04d}", group=group) for i, group in enumerate(groups)]
    )
    people = User.objects.bulk_create(
        [
            User(username=f"t{i:04d}-m{j}", email=f"t{i:04d}-m{j}@bench.invalid", password="!")
            for i in range(n_teams)
            for j in range(4)
        ],
        batch_size=5000,
    )
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=person.pk, group_id=groups[k // 4].pk) for k, person in enumerate(people)],
        batch_size=5000,
    )

    # The catalog: a few vendors' models, all hosted in the live regions (some elsewhere too).
    vendors = [
        Vendor.objects.create(slug=f"bench-vendor-{i}", name=f"Bench Vendor {i}", status="approved") for i in range(3)
    ]
    models = []
    for i in range(8):
        model = CatalogModel.objects.create(
            vendor=vendors[i % 3], identifier=f"model-{i}", display_name=f"Model {i}", context_window=128000
        )
        model.regions.set(live + rng.sample(regions[ARGS.regions :], min(i % 3, len(regions) - ARGS.regions)))
        models.append(model)
    prompts = [
        PromptVersion.objects.create(
            name=f"bench-prompt-{i % 10}",
            version=i // 10 + 1,
            template=f"Prompt {i}",
            content_hash=PromptVersion.hash_template(f"Prompt {i}"),
        )
        for i in range(40)
    ]
    packs = []
    for i in range(6):
        pack = PolicyPack.objects.create(name="bench-pack", version=i + 1, data_classifications=["internal"])
        pack.allowed_regions.set(live + regions[ARGS.regions : ARGS.regions + i % 2])
        packs.append(pack)

    features = []
    for i in range(features_wanted):
        team = rng.randrange(n_teams)
        owners = people[team * 4 : team * 4 + 4]
        features.append(
            AIFeature(
                slug=SLUG.format(i),
                name=f"Feature {i:05d}",
                purpose="Benchmark feature.",
                team=teams[team],
                accountable_owner=rng.choice(owners),
                incident_owner=rng.choice(owners),
                risk_tier=fs._weighted(rng, fs.TIERS),
                intended_uses="Benchmarking.",
                disallowed_uses="Anything else.",
                data_classification="internal",
                status="active",
                operational_fallback="Answer without AI.",
                rollback_path="Roll back to the previous version.",
                monitors="https://example.invalid/m",
                slos="p95 < 2 s",
                created_by=system,
            )
        )
    features = AIFeature.objects.bulk_create(features, batch_size=2000)
    AIFeature.regions.through.objects.bulk_create(
        [
            AIFeature.regions.through(aifeature_id=feature.pk, region_id=region.pk)
            for feature in features
            for region in live
        ],
        batch_size=5000,
    )

    submitted = now - timedelta(days=30)
    versions = FeatureVersion.objects.bulk_create(
        [
            FeatureVersion(
                feature=feature,
                number=1,
                status="submitted",
                model=models[i % len(models)],
                prompt=prompts[i % len(prompts)],
                policy_pack=packs[i % len(packs)],
                change_summary="First version.",
                author=system,
                submitted_at=submitted,
                submitted_by=system,
                config_hash=hashlib.sha256(f"{feature.slug}:1".encode()).hexdigest(),
                parameters={"temperature": 0.2, "max_tokens": 1024},
                tools=[{"name": "crm.lookup", "scopes": ["read"]}] if i % 4 == 0 else [],
            )
            for i, feature in enumerate(features)
        ],
        batch_size=2000,
    )
    fallbacks = []
    for version in versions:
        others = [model for model in models if model.pk != version.model_id]
        for position, model in enumerate(rng.sample(others, rng.choice((1, 2))), start=1):
            fallbacks.append(VersionFallback(version=version, model=model, position=position))
    VersionFallback.objects.bulk_create(fallbacks, batch_size=5000)

    deployments, events = [], []
    for feature, version in zip(features, versions):
        for region in live:
            at = now - timedelta(days=rng.uniform(1, 29))
            deployments.append(
                Deployment(
                    feature=feature,
                    environment="production",
                    region=region,
                    version=version,
                    updated_at=at,
                    updated_by=system,
                )
            )
            events.append(
                DeploymentEvent(
                    feature=feature,
                    environment="production",
                    region=region,
                    kind="promoted",
                    to_version=version,
                    actor=system,
                    reason="Benchmark promotion.",
                    at=at,
                )
            )
    Deployment.objects.bulk_create(deployments, batch_size=5000)
    DeploymentEvent.objects.bulk_create(events, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # what autovacuum would have done on a real database
    return [region.code for region in live]


def bench_token() -> str:
    """A token of a plain signed-in user (no role, no team): what a router's service account has."""
    user, _ = User.objects.get_or_create(username="bench-router", defaults={"email": "router@bench.invalid"})
    _token, raw = api_token_create(actor=user, user=user, name="bench")
    return raw


# --- MLflow's side ---------------------------------------------------------------------------------

POPULATE = r'''
"""Registers models named feature-00000.. with one version and the alias "champion", through MLflow's
model registry store (what mlflow server's handlers call), in parallel processes with a few threads each."""
import multiprocessing, sys, time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

URI, N, PROCESSES, THREADS, SLUG = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def register(span):
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
    store = SqlAlchemyStore(URI)

    def one(i):
        name = SLUG.format(i)
        store.create_registered_model(name)
        version = store.create_model_version(name, source=f"s3://bench-models/{name}/1")
        store.set_registered_model_alias(name, "champion", version.version)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(*span)))
    return span[1] - span[0]


if __name__ == "__main__":
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
    started = time.perf_counter()
    SqlAlchemyStore(URI)  # creates the schema once, before the workers connect
    schema = time.perf_counter() - started
    step = -(-N // PROCESSES)
    spans = [(start, min(N, start + step)) for start in range(0, N, step)]
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        done = sum(pool.map(register, spans))
    print(f"{done} {schema:.1f} {time.perf_counter() - started:.1f}")
'''


def sqlalchemy_url(db: dict) -> str:
    return (
        f"postgresql+psycopg://{_credentials(db)}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def _credentials(db: dict) -> str:
    user, password = db.get("USER") or "", db.get("PASSWORD") or ""
    if not user:
        return ""
    return f"{user}:{password}@" if password else f"{user}@"


def mlflow_python() -> Path:
    venv = Path(ARGS.mlflow_venv)
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import mlflow, psycopg; print(mlflow.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    say(f"  creating MLflow's virtualenv in {venv} (pip install {' '.join(MLFLOW_REQUIREMENTS)}; ~2 minutes)")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *MLFLOW_REQUIREMENTS], check=True)
    say(f"  installed in {time.perf_counter() - started:.0f} s")
    return python


def mlflow_admin(query, params=()) -> list:
    """A statement on the server's maintenance database (autocommit: CREATE/DROP DATABASE)."""
    with psycopg.connect(
        dbname="postgres",
        host=MLFLOW_DB.get("HOST") or None,
        port=MLFLOW_DB.get("PORT") or None,
        user=MLFLOW_DB.get("USER") or None,
        password=MLFLOW_DB.get("PASSWORD") or None,
        autocommit=True,
    ) as admin:
        cursor = admin.execute(query, params)
        return cursor.fetchall() if cursor.description else []


def mlflow_models_registered() -> int:
    if not mlflow_admin("SELECT 1 FROM pg_database WHERE datname = %s", [MLFLOW_DB["NAME"]]):
        return -1
    try:
        with psycopg.connect(
            dbname=MLFLOW_DB["NAME"],
            host=MLFLOW_DB.get("HOST") or None,
            port=MLFLOW_DB.get("PORT") or None,
            user=MLFLOW_DB.get("USER") or None,
            password=MLFLOW_DB.get("PASSWORD") or None,
        ) as db:
            return db.execute("SELECT count(*) FROM registered_model_aliases WHERE alias = 'champion'").fetchone()[0]
    except psycopg.Error:
        return -1


def mlflow_dataset(python: Path, features: int) -> None:
    if ARGS.reuse and mlflow_models_registered() == features:
        say(f"  reusing {features:,} registered models in {MLFLOW_DB['NAME']}")
        return
    name = sql.Identifier(MLFLOW_DB["NAME"])
    mlflow_admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    mlflow_admin(sql.SQL("CREATE DATABASE {}").format(name))
    script = VAR / "mlflow_populate.py"
    script.write_text(POPULATE)
    processes, threads = max(2, os.cpu_count() or 2), 2
    result = subprocess.run(
        [str(python), str(script), sqlalchemy_url(MLFLOW_DB), str(features), str(processes), str(threads), SLUG],
        capture_output=True,
        text=True,
        env=mlflow_env(),
    )
    if result.returncode != 0:
        sys.exit(f"registering MLflow's models failed:\n{result.stderr[-4000:]}")
    done, schema, total = result.stdout.split()[-3:]
    say(
        f"  MLflow: created {MLFLOW_DB['NAME']} (schema {schema} s) and registered {int(done):,} models with one "
        f"version and alias 'champion' in {float(total):.1f} s ({processes} processes x {threads} threads calling "
        f"MLflow's registry store directly: 3 writes per model; ~{int(done) / max(float(total), 0.1):.0f} models/s)"
    )


def mlflow_env() -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "PYTHONWARNINGS": "ignore"})
    return env


# --- Servers ---------------------------------------------------------------------------------------


class Server:
    """A server process we started in its own session (process group), stopped by that group's id."""

    def __init__(self, name: str, command: list[str], env: dict, port: int, log: Path):
        self.name, self.command, self.env, self.port, self.log = name, command, env, port, log
        self.process: subprocess.Popen | None = None
        self.stopped = False

    def start(self) -> None:
        if port_open(self.port):
            sys.exit(f"port {self.port} is already in use: pass another --port")
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("w")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )

    def wait_ready(self, path: str, headers: dict, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(
                    f"{self.name} exited with {self.process.returncode}; its log ({self.log}):\n"
                    + self.log.read_text()[-3000:]
                )
            try:
                request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers)
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                last = f"HTTP {error.code}: {error.read()[:300]!r}"
                if error.code not in (502, 503):
                    sys.exit(f"{self.name} answered {path} with {last}")
            except OSError as error:
                last = str(error)
            time.sleep(0.5)
        sys.exit(f"{self.name} was not ready within {timeout:.0f} s ({last}); log: {self.log}")

    def settle(self, limit: float = 90.0) -> float:
        """Waits until the process tree is idle (under 5 % of a core over a second): servers import and
        spawn helpers after they first answer. Returns the seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            before = cpu_seconds(self.pids())
            time.sleep(1.0)
            if cpu_seconds(self.pids()) - before < 0.05:
                break
        return time.monotonic() - started

    def pids(self) -> list[int]:
        return process_tree(self.process.pid) if self.process and self.process.poll() is None else []

    def stop(self) -> None:
        """SIGTERM to the server's process group, then SIGKILL to what is left of it after 30 s."""
        if not self.process or self.stopped:
            return
        self.stopped = True
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.process.poll()
            try:
                os.killpg(group, 0)  # anyone left in the group (MLflow's job consumers outlive it a little)?
            except ProcessLookupError:
                return
            time.sleep(0.2)
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """Sum of RSS, and of PSS (shared pages split between the processes sharing them), in MB."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss / 1024, pss / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / CLOCK_TICKS


def machine_ticks() -> dict[str, int]:
    """The machine's CPU time so far, from /proc/stat: all, idle (with I/O wait) and steal (taken by the
    host for other guests), in clock ticks."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return {"all": sum(fields[:8]), "idle": fields[3] + fields[4], "steal": fields[7] if len(fields) > 7 else 0}


def page_faults() -> int:
    """Pages this machine had to read back from disk so far: major page faults plus refaults of file pages
    evicted from the page cache (code and libraries dropped by memory reclaim, then needed again)."""
    counters = dict(line.split() for line in Path("/proc/vmstat").read_text().splitlines())
    return int(counters.get("pgmajfault", 0)) + int(counters.get("workingset_refault_file", 0))


def redis_commands() -> int:
    """Commands the Redis server has processed so far (all its databases: keep others off it while soaking)."""
    return int(redis.Redis.from_url(CACHE_URL).info("stats")["total_commands_processed"])


def database_counters(db: dict) -> tuple[int, int]:
    """Transactions (committed and rolled back) and sessions opened so far in a database, from
    pg_stat_database. Backends report theirs when idle, at most ~10 s late: read it after a pause."""
    with psycopg.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    ) as admin:
        row = admin.execute(
            "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
    return (row[0], row[1]) if row else (0, 0)


STATS_DELAY = 11.0  # PostgreSQL >= 15 flushes an idle backend's statistics within 10 s


def accepted_connections() -> int:
    """TCP connections accepted on this machine so far (PassiveOpens): loopback, so ours plus a few."""
    lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Tcp:")]
    return int(lines[1][lines[0].index("PassiveOpens")])


# --- wrk -------------------------------------------------------------------------------------------

LUA = r"""
-- Generated by bench/resolve.py. Each request asks for a random key; when warming up (passes > 0) each
-- thread walks its share of the keys instead, appends a line to the done file when it has walked them
-- all and stops (wrk itself waits for its duration or SIGINT). Non-2xx answers are counted; done()
-- prints one JSON line.
local features, regions, passes, nthreads = {features}, {{{regions}}}, {passes}, {nthreads}
local done_file = {done_file}
wrk.headers["Authorization"] = {authorization}
{close}
local threads, counter = {{}}, 1
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  id, bad, finished = wrk.thread:get("id"), 0, false
  math.randomseed(os.time() * 7919 + id * 104729 + math.floor(os.clock() * 1e6))
  next_key = id - 1
end
local function path(feature, region)
  return {path}
end
function request()
  local key
  if passes > 0 then
    key = next_key % (features * #regions)
    next_key = next_key + nthreads
  else
    key = math.random(0, features * #regions - 1)
  end
  return wrk.format("GET", path(string.format("{slug}", math.floor(key / #regions)), regions[key % #regions + 1]))
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if bad <= 3 then io.stderr:write("HTTP " .. status .. ": " .. string.sub(body or "", 1, 300) .. "\n") end
  end
  if passes > 0 and not finished and next_key >= passes * features * #regions then
    finished = true
    local out = io.open(done_file, "a")
    out:write(id .. "\n")
    out:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do non2xx = non2xx + thread:get("bad") end
  local e = summary.errors
  io.write(string.format('RESULT {{"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "mean_us": %.1f}}\n', summary.requests, summary.duration, summary.bytes, non2xx, e.connect,
    e.read, e.write, e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""


def wrk_threads(connections: int) -> int:
    return min(connections, max(1, os.cpu_count() or 1))


def lua_script(
    target: str,
    regions: list[str],
    token: str | None,
    close: bool,
    connections: int,
    passes: int = 0,
    done_file: Path | None = None,
) -> Path:
    template = {"gatehouse": RESOLVE_PATH, "mlflow": MLFLOW_PATH}.get(target, MINIMAL_PATH)
    # The path template becomes a Lua concatenation: "/api/..?feature=" .. feature .. "&region=" .. region
    parts = template.replace("{feature}", "\x00feature\x00").replace("{region}", "\x00region\x00").split("\x00")
    expression = " .. ".join(part if part in ("feature", "region") else json.dumps(part) for part in parts if part)
    text = LUA.format(
        features=ARGS.features,
        regions=", ".join(json.dumps(code) for code in regions),
        passes=passes,
        nthreads=wrk_threads(connections),
        done_file=json.dumps(str(done_file or "")),
        authorization=json.dumps(f"Bearer {token}" if token else ""),
        close='wrk.headers["Connection"] = "close"' if close else "",
        path=expression,
        slug=SLUG.replace("{:05d}", "%05d"),
    )
    if not token:
        text = text.replace('wrk.headers["Authorization"] = ""\n', "")
    handle, name = tempfile.mkstemp(prefix=f"wrk-{target}-", suffix=".lua", dir=VAR)
    with os.fdopen(handle, "w") as out:  # 0600: it holds the (throwaway) token
        out.write(text)
    return Path(name)


def wrk(port: int, script: Path, connections: int, seconds: int, done_file: Path | None = None) -> dict:
    """Runs wrk; with ``done_file``, stops it (SIGINT: it still reports) once every thread wrote its line."""
    threads = wrk_threads(connections)
    command = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        f"http://127.0.0.1:{port}/",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if done_file is not None:
            deadline = time.monotonic() + seconds
            while process.poll() is None and time.monotonic() < deadline:
                if done_file.exists() and len(done_file.read_text().split()) >= threads:
                    process.send_signal(signal.SIGINT)
                    break
                time.sleep(0.2)
        stdout, stderr = process.communicate(timeout=seconds + 60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    line = next((line for line in stdout.splitlines() if line.startswith("RESULT ")), None)
    if process.returncode not in (0, -signal.SIGINT) or line is None:
        sys.exit(f"wrk failed ({process.returncode}):\n{stdout[-2000:]}\n{stderr[-2000:]}")
    figures = json.loads(line.removeprefix("RESULT "))
    figures["stderr"] = stderr.strip()
    return figures


def measure(server: Server, target: str, regions: list[str], token: str | None, db: dict) -> list[dict]:
    rows = []
    modes = [mode.strip() for mode in ARGS.modes.split(",") if mode.strip()]
    for mode in modes:
        for connections in [int(c) for c in ARGS.concurrency.split(",") if c.strip()]:
            script = lua_script(target, regions, token, close=mode == "close", connections=connections)
            try:
                if not rows:
                    time.sleep(STATS_DELAY)  # the warm-up's statistics reach pg_stat_database first
                pids = server.pids()
                transactions_before, sessions_before = database_counters(db)
                cpu_before, accepted_before = cpu_seconds(pids), accepted_connections()
                figures = wrk(server.port, script, connections, ARGS.duration)
                cpu = cpu_seconds(server.pids()) - cpu_before
                accepted = accepted_connections() - accepted_before
                requests = figures["requests"]
                seconds = figures["duration_us"] / 1e6
                rss, pss = memory_mb(server.pids())
                time.sleep(STATS_DELAY)
                transactions, sessions = database_counters(db)
                transactions -= transactions_before
                accepted -= sessions - sessions_before  # the server's own new PostgreSQL connections
                row = {
                    "server": server.name,
                    "mode": mode,
                    "c": connections,
                    "requests": requests,
                    "rps": requests / seconds,
                    "p50": figures["p50_us"] / 1000,
                    "p90": figures["p90_us"] / 1000,
                    "p99": figures["p99_us"] / 1000,
                    "max": figures["max_us"] / 1000,
                    "non2xx": figures["non2xx"],
                    "socket": figures["connect"] + figures["read"] + figures["write"] + figures["timeout"],
                    "accepted": accepted,
                    "cpu_ms": 1000 * cpu / max(requests, 1),
                    "rss": rss,
                    "pss": pss,
                    "db": transactions / max(requests, 1),
                    "processes": len(server.pids()),
                }
                row["errors"] = row["non2xx"] + row["socket"]
                rows.append(row)
                say(
                    f"  {server.name:<9} {mode:<9} c={connections:<3} {row['rps']:9.1f} req/s  p50 {row['p50']:7.2f} ms  "
                    f"p99 {row['p99']:7.2f} ms  errors {row['errors']}  accepted {accepted:,} connections  "
                    f"server CPU {row['cpu_ms']:.2f} ms/req  {row['db']:.2f} db transactions/req  RSS {rss:.0f} MB"
                )
                if figures["stderr"]:
                    say("    wrk: " + figures["stderr"].replace("\n", "\n    wrk: ")[:1500])
            finally:
                script.unlink(missing_ok=True)
    return rows


def soak(server: Server, regions: list[str], token: str, db: dict) -> list[dict]:
    """One warm-up has run; wrk for ``--soak`` seconds in windows of ``--window`` seconds (one wrk run each,
    back to back), so a dip shows in the window it happens in. Each window also shows the server's work
    per request (CPU, database transactions from pg_stat_database, up to ~1 s late, and Redis commands)
    and the machine's: CPU busy and stolen by the host, and pages read back from disk (major faults and
    refaults of evicted page cache: what memory reclaim outside the server costs it). A dip in which the server did no more database
    or Redis work per request is not the server recomputing answers: its CPU per request then tells
    whether the same work simply ran slower (the machine) or the server did more of it."""
    connections = max(int(c) for c in ARGS.concurrency.split(",") if c.strip())
    script = lua_script("gatehouse", regions, token, close=False, connections=connections)
    windows = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < ARGS.soak:
            at = time.monotonic() - started
            seconds = max(1, min(ARGS.window, round(ARGS.soak - at)))
            cpu_before, ticks_before, faults_before = cpu_seconds(server.pids()), machine_ticks(), page_faults()
            transactions_before, commands_before = database_counters(db)[0], redis_commands()
            figures = wrk(server.port, script, connections, seconds)
            cpu, ticks = cpu_seconds(server.pids()) - cpu_before, machine_ticks()
            faults = page_faults() - faults_before
            transactions, commands = database_counters(db)[0] - transactions_before, redis_commands() - commands_before
            spent = {key: ticks[key] - ticks_before[key] for key in ticks}
            requests = max(figures["requests"], 1)
            window = {
                "at": at,
                "rps": figures["requests"] / (figures["duration_us"] / 1e6),
                "p99": figures["p99_us"] / 1000,
                "errors": figures["non2xx"]
                + figures["connect"]
                + figures["read"]
                + figures["write"]
                + figures["timeout"],
                "cpu_ms": 1000 * cpu / requests,
                "db": transactions / requests,
                "redis": commands / requests,
                "busy": 100 * (spent["all"] - spent["idle"]) / max(spent["all"], 1),
                "steal": 100 * spent["steal"] / max(spent["all"], 1),
                "faults": faults,
            }
            windows.append(window)
            say(
                f"  {at:6.0f} s  {window['rps']:8.1f} req/s  p99 {window['p99']:7.2f} ms  errors {window['errors']}  "
                f"server CPU {window['cpu_ms']:.3f} ms/req  {window['db']:.4f} db transactions/req  "
                f"{window['redis']:.3f} Redis commands/req  "
                f"machine busy {window['busy']:.0f}%  stolen {window['steal']:.1f}%  pages read back {faults:,}"
            )
    finally:
        script.unlink(missing_ok=True)
    return windows


def soak_verdict(windows: list[dict]) -> bool:
    if not windows:
        return False
    steady = statistics.median(window["rps"] for window in windows)
    lowest = min(windows, key=lambda window: window["rps"])
    share = lowest["rps"] / steady
    say(
        f"{'PASS' if share >= 0.8 else 'MISS'}  soak over {ARGS.soak} s in {ARGS.window} s windows: lowest "
        f"{lowest['rps']:.0f} req/s (at {lowest['at']:.0f} s) = {100 * share:.0f}% of the steady {steady:.0f} req/s "
        f"(the median window; target >= 80%), highest p99 {max(window['p99'] for window in windows):.1f} ms, "
        f"errors {sum(window['errors'] for window in windows)}"
    )
    worked = [
        window
        for window in windows
        if window["db"] > 0.001 or window["redis"] > 1.1 * statistics.median(w["redis"] for w in windows)
    ]
    moments = ", ".join(f"{window['at']:.0f} s" for window in worked) or "none"
    say(
        f"      windows in which the server did more work per request (any database transactions, or 10% more "
        f"Redis commands than the median window): {moments}"
    )
    return share >= 0.8


def warm_up(server: Server, target: str, regions: list[str], token: str | None, passes: int, limit: int) -> None:
    """Walks every key ``passes`` times at concurrency 16 (or for ``limit`` seconds, whichever ends first)."""
    done_file = VAR / f"wrk-{target}-warm-up.done"
    done_file.unlink(missing_ok=True)
    script = lua_script(target, regions, token, close=False, connections=16, passes=passes, done_file=done_file)
    try:
        started = time.perf_counter()
        figures = wrk(server.port, script, 16, limit, done_file=done_file)
        say(
            f"  warmed up {server.name}: {figures['requests']:,} requests in {time.perf_counter() - started:.1f} s "
            f"({passes} pass(es) over {ARGS.features * len(regions):,} keys wanted, at most {limit} s)"
            + (f", {figures['non2xx']} non-2xx" if figures["non2xx"] else "")
        )
        if figures["stderr"]:
            say("    wrk: " + figures["stderr"][:1500])
    finally:
        script.unlink(missing_ok=True)
        done_file.unlink(missing_ok=True)


def prewarm(server: Server) -> None:
    """``manage.py routing_warm`` with the server's settings: every decision computed and put in its Redis,
    as a deploy would do before taking traffic. The request warm-up then fills each worker's memory."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "routing_warm"], env=server.env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"routing_warm failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    say(f"  {done.stdout.strip()} (routing_warm, {time.perf_counter() - started:.1f} s with start-up)")


def gunicorn_workers() -> int:
    cores = os.cpu_count() or 2
    return ARGS.workers or (2 * cores + 1 if ARGS.worker_class == "sync" else cores)


def gunicorn_env() -> dict:
    env = dict(os.environ)
    for key in ("GATEHOUSE_ALLOW_INSECURE_KEY", "CELERY_TASK_ALWAYS_EAGER", "CELERY_RESULT_BACKEND", "EMAIL_BACKEND"):
        env.pop(key, None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": ARGS.database_url,
            "CACHE_URL": CACHE_URL,
            # Plain http on loopback: no redirect to https, no secure-only cookies, no HSTS.
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "SECURE_HSTS_SECONDS": "0",
            "GATEHOUSE_MANIFEST_STATIC": "0",  # no collectstatic for an API benchmark
            "CELERY_BROKER_URL": "memory://localhost/",
            "LOG_LEVEL": "WARNING",
        }
    )
    if ARGS.cache_seconds:
        env["ROUTING_CACHE_SECONDS"] = str(ARGS.cache_seconds)
    return env


def gunicorn_command(
    target: str, port: int, extra: list[str] = (), workers: int | None = None
) -> tuple[list[str], str]:
    """The command line every gunicorn of the run shares (Gatehouse's and the baselines'), and its words."""
    workers = workers or gunicorn_workers()
    if ARGS.worker_class == "sync":
        worker_args = ["--worker-class", "sync"]
    else:
        worker_args = ["--worker-class", "gthread", "--threads", str(ARGS.threads)]
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        target,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *worker_args,
        "--backlog",
        "2048",
        "--keep-alive",
        "5",
        "--log-level",
        "warning",
        *extra,
    ]
    description = f"gunicorn {workers} {ARGS.worker_class} workers" + (
        f" x {ARGS.threads} threads" if ARGS.worker_class == "gthread" else ""
    )
    return command, description


def gatehouse_server() -> Server:
    command, description = gunicorn_command("config.wsgi", ARGS.port)
    server = Server("gatehouse", command, gunicorn_env(), ARGS.port, VAR / "gatehouse-gunicorn.log")
    server.description = description + (f", ROUTING_CACHE_SECONDS={ARGS.cache_seconds}" if ARGS.cache_seconds else "")
    return server


def baseline_server(name: str, body_bytes: int) -> Server:
    target, middleware, what = BASELINES[name]
    port = ARGS.port + 2
    command, description = gunicorn_command(target, port, ["--pythonpath", str(BENCH)])
    env = gunicorn_env()
    env.update(
        {"DJANGO_SETTINGS_MODULE": "minimal_site", "BENCH_MIDDLEWARE": middleware, "BENCH_BODY_BYTES": str(body_bytes)}
    )
    server = Server(name, command, env, port, VAR / f"{name}-gunicorn.log")
    server.description = f"{description}: {what}, {body_bytes:,} bytes"
    return server


def mlflow_server(python: Path) -> Server:
    port = ARGS.port + 1
    command = [
        str(python.parent / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(ARGS.mlflow_workers),
        "--backend-store-uri",
        sqlalchemy_url(MLFLOW_DB),
        "--default-artifact-root",
        str(VAR / "mlflow-artifacts"),
    ]
    server = Server("mlflow", command, mlflow_env(), port, VAR / "mlflow-server.log")
    server.description = f"mlflow server --workers {ARGS.mlflow_workers} (uvicorn), PostgreSQL backend store"
    return server


# --- Profile ---------------------------------------------------------------------------------------


def scale_out(regions: list[str], token: str) -> list[dict]:
    """Resolve at concurrency 16 (keep-alive) on one gunicorn with 1 and with 2 worker processes, and on two
    gunicorn servers of one process each (two ports, the same secret key, PostgreSQL and Redis), wrk split
    between them: how throughput grows with processes on this machine's cores."""
    env = gunicorn_env()  # one fleet: one secret key
    layouts = [("1 process", [1]), ("2 processes", [2]), ("2 servers x 1", [1, 1])]
    rows = []
    for label, workers in layouts:
        servers = []
        try:
            for index, count in enumerate(workers):
                port = ARGS.port + 3 + index
                command, description = gunicorn_command("config.wsgi", port, workers=count)
                server = Server(f"scale-{index}", command, env, port, VAR / f"scale-out-{index}.log")
                servers.append(server)
                server.start()
                server.wait_ready(
                    RESOLVE_PATH.format(feature=SLUG.format(0), region=regions[0]), {"Authorization": f"Bearer {token}"}
                )
                server.settle()
                warm_up(server, "gatehouse", regions, token, 1, ARGS.warmup_limit)
            connections = 16 // len(servers)
            results = [None] * len(servers)
            scripts = [lua_script("gatehouse", regions, token, close=False, connections=connections) for _ in servers]

            def run(index, port, script, connections, results=results):
                results[index] = wrk(port, script, connections, ARGS.duration)

            pids = [pid for server in servers for pid in server.pids()]
            cpu_before = cpu_seconds(pids)
            threads = [
                threading.Thread(target=run, args=(index, server.port, scripts[index], connections))
                for index, server in enumerate(servers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            cpu = cpu_seconds(pids) - cpu_before
            for script in scripts:
                script.unlink(missing_ok=True)
            requests = sum(r["requests"] for r in results)
            rps = sum(r["requests"] / (r["duration_us"] / 1e6) for r in results)
            errors = sum(r["non2xx"] + r["connect"] + r["read"] + r["write"] + r["timeout"] for r in results)
            row = {
                "layout": label,
                "rps": rps,
                "p99": max(r["p99_us"] for r in results) / 1000,
                "errors": errors,
                "cpu_ms": 1000 * cpu / max(requests, 1),
            }
            rows.append(row)
            say(
                f"  {label:<14} {rps:9.1f} req/s  p99 {row['p99']:6.2f} ms  errors {errors}  "
                f"server CPU {row['cpu_ms']:.2f} ms/req"
            )
        finally:
            for server in servers:
                server.stop()
    base = rows[0]["rps"] or 1
    say("  growth over 1 process: " + ", ".join(f"{r['layout']} {r['rps'] / base:.2f}x" for r in rows[1:]))
    return rows


def answer_size(server: Server, region: str, token: str) -> int:
    """The size of one resolve answer's body, for the baselines to return as much."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}" + RESOLVE_PATH.format(feature=SLUG.format(0), region=region),
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return len(response.read())


def profile_requests(regions: list[str], token: str, count: int) -> None:
    """``count`` resolves through the whole Django stack in this process, under cProfile, three ways:
    answered from the process's memory; taken from the shared cache (the process cache emptied before
    each request); computed from the database (the shared cache bypassed too). The shared cache is the
    benchmark's Redis database, as in the server."""
    import cProfile
    import io
    import pstats
    import warnings
    from contextlib import nullcontext
    from unittest import mock

    from django.core.cache import caches
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from routing import cache as routing_cache

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic for an API run
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    rng = random.Random(ARGS.seed)
    keys = [(SLUG.format(rng.randrange(ARGS.features)), rng.choice(regions)) for _ in range(count)]
    redis_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    bypass_shared = (
        mock.patch.object(routing_cache, "shared_get", return_value=None)
        if hasattr(routing_cache, "shared_get")
        else nullcontext()
    )
    with override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False, CACHES=redis_cache):
        caches["default"].clear()
        for feature, region in keys:  # fill the caches
            client.get(RESOLVE_PATH.format(feature=feature, region=region))
        for label, clear, context in (
            ("from memory", False, nullcontext()),
            ("from the shared cache", True, nullcontext()),
            ("computed", True, bypass_shared),
        ):
            profiler = cProfile.Profile()
            queries = 0
            started = time.perf_counter()
            with context:
                for feature, region in keys:
                    if clear:
                        routing_cache.decisions.clear()
                    with CaptureQueriesContext(connection) as captured:
                        profiler.enable()
                        response = client.get(RESOLVE_PATH.format(feature=feature, region=region))
                        profiler.disable()
                    queries += len(captured.captured_queries)
                    assert response.status_code == 200, response.content[:300]
            wall = time.perf_counter() - started
            say(
                f"  cProfile of {count} resolves {label}, through Django's test client: {1000 * wall / count:.2f} ms "
                f"per request with the profiler's overhead, {queries / count:.1f} queries per request"
            )
            for order, lines in (("cumulative", 40), ("tottime", 20)):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
                say("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))


# --- Main ------------------------------------------------------------------------------------------


def check_tools() -> None:
    if shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed: `apt-get install -y wrk` (Debian's package; `make bench-resolve` installs "
            "it when run as root)."
        )
    for db in (DB, MLFLOW_DB):
        if db.get("ENGINE") != "django.db.backends.postgresql":
            sys.exit(f"{db.get('NAME')}: the benchmark needs PostgreSQL")
        if "bench" not in (db.get("NAME") or "") and not ARGS.force:
            sys.exit(
                f"Refusing to drop and recreate database {db.get('NAME')!r}: its name lacks 'bench' (use --force)."
            )
    if DB["NAME"] == MLFLOW_DB["NAME"]:
        sys.exit("Gatehouse and MLflow need two different databases.")
    try:
        redis.Redis.from_url(CACHE_URL).ping()
    except redis.RedisError as error:
        sys.exit(f"Redis is needed at {CACHE_URL} (resolve's shared cache): {error}")


def print_table(rows: list[dict], descriptions: dict[str, str]) -> None:
    say("")
    say("== Results ==")
    for name, description in descriptions.items():
        say(f"  {name}: {description}")
    header = (
        f"{'server':<10} {'mode':<9} {'conc':>4} {'requests/s':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'errors':>6} {'accepted':>9} {'CPU ms/req':>10} {'db tx/req':>9} {'RSS MB':>7} {'PSS MB':>7}"
    )
    say(header)
    say("-" * len(header))
    for r in rows:
        say(
            f"{r['server']:<10} {r['mode']:<9} {r['c']:>4} {r['rps']:>10.1f} {r['p50']:>7.2f} {r['p99']:>7.2f} "
            f"{r['max']:>7.1f} {r['errors']:>6,d} {r['accepted']:>9,d} {r['cpu_ms']:>10.2f} {r['db']:>9.2f} {r['rss']:>7.0f} "
            f"{r['pss']:>7.0f}"
        )
    say(
        "  errors: non-2xx answers plus wrk's socket errors; accepted: TCP connections the machine accepted during "
        "the run, less the server's new PostgreSQL sessions (one per request in close mode);"
    )
    say(
        "  CPU ms/req: the server's process tree's CPU time over the run / requests; db tx/req: transactions in its "
        "database (pg_stat_database) / requests;"
    )
    say("  RSS: summed over the process tree after the run (PSS splits shared pages).")


def verdict(rows: list[dict]) -> bool:
    say("")
    say("== Verdict ==")
    top = max(int(c) for c in ARGS.concurrency.split(",") if c.strip())
    ours = [r for r in rows if r["server"] == "gatehouse" and r["c"] == top]
    theirs = [r for r in rows if r["server"] == "mlflow" and r["c"] == top]
    ok = True
    if ours and theirs:
        best_theirs = max(theirs, key=lambda r: r["rps"])
        best_ours = max(ours, key=lambda r: r["rps"])
        ratio = best_ours["rps"] / max(best_theirs["rps"], 1e-9)
        passed = ratio >= TARGET_RATIO
        ok &= passed
        say(
            f"  {'PASS' if passed else 'MISS'}  throughput at concurrency {top}: Gatehouse {best_ours['rps']:.0f} req/s "
            f"({best_ours['mode']}) / MLflow {best_theirs['rps']:.0f} req/s (its better mode, {best_theirs['mode']}) "
            f"= {ratio:.1f}x (target >= {TARGET_RATIO:g}x)"
        )
        for r in ours:
            other = next((t for t in theirs if t["mode"] == r["mode"]), None)
            if other and other is not best_theirs:
                say(
                    f"        (same mode, {r['mode']}: {r['rps']:.0f} / {other['rps']:.0f} = "
                    f"{r['rps'] / max(other['rps'], 1e-9):.1f}x)"
                )
    else:
        say("  (one server measured: no ratio)")
    for name in BASELINES:
        base = [r for r in rows if r["server"] == name and r["c"] == top]
        for r in ours:
            other = next((b for b in base if b["mode"] == r["mode"]), None)
            if other is None:
                continue
            share = r["rps"] / max(other["rps"], 1e-9)
            if name == "django-min":
                passed = share >= TARGET_OF_MINIMAL
                ok &= passed
                say(
                    f"  {'PASS' if passed else 'MISS'}  against the minimal Django view on the same gunicorn "
                    f"({r['mode']}, concurrency {top}): {r['rps']:.0f} / {other['rps']:.0f} req/s = {share:.0%} "
                    f"(target >= {TARGET_OF_MINIMAL:.0%}); CPU {r['cpu_ms']:.2f} against {other['cpu_ms']:.2f} ms/req"
                )
            else:
                say(
                    f"        {name} ({r['mode']}): {r['rps']:.0f} / {other['rps']:.0f} req/s = {share:.0%}; "
                    f"CPU {r['cpu_ms']:.2f} against {other['cpu_ms']:.2f} ms/req"
                )
    for r in ours:
        passed = r["p99"] <= TARGET_P99_MS
        ok &= passed
        say(
            f"  {'PASS' if passed else 'MISS'}  Gatehouse p99 at concurrency {top} ({r['mode']}): {r['p99']:.1f} ms "
            f"(target <= {TARGET_P99_MS:g} ms)"
        )
    errors = sum(r["errors"] for r in rows if r["server"] == "gatehouse")
    if errors:
        ok = False
        say(f"  MISS  Gatehouse answered {errors:,} requests with an error")
    say(f"  overall: {'PASS' if ok else 'MISS'}")
    return ok


def main() -> int:
    check_tools()
    started = time.perf_counter()
    VAR.mkdir(parents=True, exist_ok=True)
    say("Gatehouse benchmark: resolve under gunicorn vs MLflow's alias lookup, with wrk")
    say(
        f"  {os.cpu_count()} CPU cores; Python {sys.version.split()[0]}; Django {django.get_version()}; "
        f"{subprocess.run(['wrk', '--version'], capture_output=True, text=True).stdout.split(' [')[0]}"
    )
    say(
        "  load average at start {:.2f} {:.2f} {:.2f} (other processes on the machine add noise; wrk shares the cores "
        "with the servers)".format(*os.getloadavg())
    )
    say(
        f"  {ARGS.features:,} features x {ARGS.regions} regions; {ARGS.duration} s per measurement at concurrency "
        f"{ARGS.concurrency}; modes {ARGS.modes}"
    )

    servers: list[Server] = []
    rows: list[dict] = []
    descriptions: dict[str, str] = {}
    windows: list[dict] = []

    def interrupted(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)  # also when started in the background (SIGINT ignored)
    try:
        say("")
        say("== Data ==")
        regions, token = None, None
        body_bytes = 3500  # a resolve answer's size, measured when Gatehouse runs
        if ARGS.only in (None, "gatehouse"):
            step = time.perf_counter()
            if ARGS.reuse and gatehouse_dataset_ready(ARGS.features):
                say(f"  reusing the Gatehouse dataset in {DB['NAME']}")
            else:
                fs.recreate_database()
                generate(ARGS.features, ARGS.seed)
                say(
                    f"  Gatehouse: generated {AIFeature.objects.count():,} features, {FeatureVersion.objects.count():,} "
                    f"versions, {VersionFallback.objects.count():,} fallbacks, {Deployment.objects.count():,} "
                    f"production deployments in {time.perf_counter() - step:.1f} s"
                )
            regions = list(Region.objects.order_by("code").values_list("code", flat=True)[: ARGS.regions])
            token = bench_token()
            connection.close()
        else:
            regions = ["-"]
        python = None
        if ARGS.only in (None, "mlflow") and not ARGS.soak:
            python = mlflow_python()
            version = subprocess.run(
                [str(python), "-c", "import mlflow; print(mlflow.__version__)"],
                capture_output=True,
                text=True,
                env=mlflow_env(),
            ).stdout.strip()
            say(f"  MLflow {version} in {ARGS.mlflow_venv}")
            mlflow_dataset(python, ARGS.features)

        if ARGS.only in (None, "gatehouse"):
            say("")
            say("== Gatehouse ==")
            redis.Redis.from_url(CACHE_URL).flushdb()  # database 5 is the benchmark's own
            server = gatehouse_server()
            servers.append(server)
            server.start()
            sample = RESOLVE_PATH.format(feature=SLUG.format(0), region=regions[0])
            server.wait_ready(sample, {"Authorization": f"Bearer {token}"})
            say(f"  started; idle after {server.settle():.0f} s more")
            descriptions["gatehouse"] = f"{server.description}, PostgreSQL {DB['NAME']}, Redis {CACHE_URL}"
            say(f"  {descriptions['gatehouse']}: {RESOLVE_PATH}")
            if not ARGS.cold:
                prewarm(server)
            warm_up(server, "gatehouse", regions, token, ARGS.warmup_passes or 1, ARGS.warmup_limit)
            if ARGS.soak:
                say(
                    f"  soak: {ARGS.soak} s at concurrency {max(int(c) for c in ARGS.concurrency.split(',') if c.strip())}"
                    f" (keep-alive) in {ARGS.window} s windows, starting {ARGS.warmup_limit} s at most after routing_warm"
                )
                windows = soak(server, regions, token, DB)
            else:
                rows += measure(server, "gatehouse", regions, token, DB)
                body_bytes = answer_size(server, regions[0], token)
            server.stop()
            if not ARGS.soak and not ARGS.no_scale_out:
                say("")
                say("== Scale-out: 1 and 2 processes, two servers (keep-alive, concurrency 16) ==")
                scale_out(regions, token)

        if ARGS.only in (None, "baselines") and not ARGS.soak:
            for name in BASELINES:
                say("")
                say(f"== Baseline: {name} ==")
                server = baseline_server(name, body_bytes)
                servers.append(server)
                server.start()
                server.wait_ready(MINIMAL_PATH.format(feature=SLUG.format(0), region="eu"), {})
                say(f"  started; idle after {server.settle():.0f} s more")
                descriptions[name] = server.description
                say(f"  {server.description}: {MINIMAL_PATH}")
                warm_up(server, name, regions if regions != ["-"] else ["eu"], token, 1, 3)
                rows += measure(server, name, regions if regions != ["-"] else ["eu"], token, DB)
                server.stop()

        if ARGS.only in (None, "mlflow") and not ARGS.soak:
            say("")
            say("== MLflow ==")
            server = mlflow_server(python)
            servers.append(server)
            server.start()
            server.wait_ready(MLFLOW_PATH.format(feature=SLUG.format(0)), {})
            say(f"  started; idle after {server.settle():.0f} s more (it spawns a job runner and its consumers)")
            descriptions["mlflow"] = f"{server.description} {MLFLOW_DB['NAME']}"
            say(f"  {descriptions['mlflow']}: {MLFLOW_PATH}")
            warm_up(server, "mlflow", ["-"], None, ARGS.warmup_passes or 1, min(ARGS.warmup_limit, 30))
            rows += measure(server, "mlflow", ["-"], None, MLFLOW_DB)
            server.stop()
    finally:
        for server in servers:
            server.stop()

    if ARGS.soak:
        say("")
        ok = soak_verdict(windows)
    else:
        print_table(rows, descriptions)
        ok = verdict(rows)
    if ARGS.profile and ARGS.only in (None, "gatehouse"):
        say("")
        say("== Profile ==")
        profile_requests(regions, token, ARGS.profile)
    say(
        f"\n  total time {time.perf_counter() - started:.0f} s; load average at the end %.2f %.2f %.2f"
        % os.getloadavg()
    )
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the servers were stopped on the way out
        sys.exit("interrupted")
