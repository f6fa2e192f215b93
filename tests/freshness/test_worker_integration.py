"""A real Celery worker with beat embedded runs the freshness sweep from its database schedule.

The worker is a separate process (``celery -A config worker -B``) on Redis, pointed at this test's
PostgreSQL database: beat reads the schedule from the database, the worker runs the sweep, the sweep's
emails go back through Redis to the same worker. Owners are told once, however many runs follow.
Needs PostgreSQL and Redis; under ``GATEHOUSE_REQUIRE_SERVICES=1`` (CI) a missing Redis fails the test.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from freshness.choices import FindingState, SweepStatus, SweepTrigger
from freshness.models import FreshnessFinding, SweepRun
from freshness.services import NOTICE_KEY_PREFIX
from registry.beat import shipped_schedules
from registry.choices import VersionStatus
from registry.models import Deployment, Notification
from tests.factories import EvaluationFactory, FeatureFactory, UserFactory, VersionFactory
from tests.workers import redis_test_url

ROOT = Path(__file__).resolve().parents[2]
SWEEP_NAME = "Evidence freshness sweep"
SWEEP_TASK = "freshness.tasks.evidence_freshness_sweep"
TIMEOUT = 60  # seconds; a run normally appears within 5


def database_url() -> str:
    """The test database (pytest-django's ``test_...`` name) as a URL for the worker's settings."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(db['NAME'], safe='')}"


def skip_or_fail(reason: str):
    if os.environ.get("GATEHOUSE_REQUIRE_SERVICES"):
        pytest.fail(f"GATEHOUSE_REQUIRE_SERVICES is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def worker_database(transactional_db):
    """This test's committed data, where another process can read it."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: the Celery worker is a separate process and cannot see the test database "
            "(SQLite's is in memory); set DATABASE_URL=postgres://..."
        )
    return database_url()


@pytest.fixture
def broker():
    """This test process's Redis database (tests.workers), empty, and emptied again afterwards."""
    import redis

    url = redis_test_url()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
        problem = None
    except redis.exceptions.RedisError as error:
        problem = f"Redis is not reachable at {url} ({error}); set REDIS_URL (.ci/run starts Redis)"
    if problem:
        skip_or_fail(problem)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path):
        self.process = process
        self.log = log

    def output(self, tail: int = 80) -> str:
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return "\n".join(lines[-tail:])

    def wait_for(self, what: str, check, timeout: float = TIMEOUT):
        """Poll ``check()`` until it returns something truthy; fail with the worker's log otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if self.process.poll() is not None:
                pytest.fail(f"The worker exited ({self.process.returncode}) before {what}.\n{self.output()}")
            if time.monotonic() > deadline:
                pytest.fail(f"No {what} within {timeout} s. Worker log:\n{self.output()}")
            time.sleep(0.25)

    def stop(self) -> None:
        """Warm shutdown (the running task finishes), then the whole process group is killed if need be."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:  # the embedded beat and any pool child share the group
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@pytest.fixture
def start_worker(worker_database, broker, tmp_path):
    """Start ``celery worker -B`` against this test's database and Redis. Stopped before the database is
    flushed (this fixture depends on ``transactional_db``, so it is finalised first)."""
    workers: list[Worker] = []

    def start() -> Worker:
        log = tmp_path / "worker.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": worker_database,
            "DB_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": broker,
            "CELERY_RESULT_BACKEND": broker,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "PYTHONUNBUFFERED": "1",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-B",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--hostname",
            f"gatehouse-test-{uuid.uuid4().hex[:8]}@%h",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: beat and all are stopped together
            )
        worker = Worker(process, log)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
        # Shown by pytest only when the test failed.
        print(f"--- worker log ({worker.log}) ---\n{worker.output(200)}")


@pytest.fixture
def live_with_stale_benchmark(team, product_owner, ml_engineer, security_reviewer, eu):
    """A medium-risk feature live in production whose benchmark is 120 days old (the gate allows 90);
    its safety and privacy evidence is fresh. The owners are the product owner and the ML engineer."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)  # flushed with the migrations' data
    feature = FeatureFactory(team=team, accountable_owner=product_owner, regions=[eu])
    now = timezone.now()
    version = VersionFactory(
        feature=feature, status=VersionStatus.SUBMITTED, submitted_at=now - timedelta(days=200), config_hash="ab" * 32
    )
    EvaluationFactory(version=version, kind="benchmark", run_at=now - timedelta(days=120))
    EvaluationFactory(version=version, kind="safety", suite="safety-v2", run_at=now - timedelta(days=1))
    EvaluationFactory(version=version, kind="privacy_review", suite="dpia", run_at=now - timedelta(days=1))
    Deployment.objects.create(
        feature=feature, environment="production", region=eu, version=version, updated_at=now, updated_by=product_owner
    )
    return version


def schedule_sweep_every(seconds: int) -> PeriodicTask:
    """The shipped schedules (the flush removed the migrations'), the sweep every few seconds, the rest off."""
    call_command("setup_schedules", stdout=StringIO())
    every, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
    sweep = PeriodicTask.objects.get(name=SWEEP_NAME)
    sweep.crontab, sweep.interval = None, every
    sweep.save()
    PeriodicTask.objects.exclude(pk=sweep.pk).update(enabled=False)
    return sweep


def freshness_notices():
    return Notification.objects.filter(key__startswith=NOTICE_KEY_PREFIX)


def told_once_and_emailed(expected_users):
    notices = list(freshness_notices())
    per_user = Counter(notice.user_id for notice in notices)
    if per_user != Counter({user.pk: 1 for user in expected_users}):
        return False
    return all(notice.emailed_at is not None for notice in notices)


@pytest.mark.slow  # a real Celery worker
@pytest.mark.django_db(transaction=True)
def test_beat_runs_the_sweep_in_a_real_worker_and_owners_are_told_once(
    start_worker, broker, live_with_stale_benchmark, product_owner, ml_engineer, security_reviewer
):
    version = live_with_stale_benchmark
    schedule_sweep_every(2)
    owners = [product_owner, ml_engineer]

    worker = start_worker()
    worker.wait_for("worker start", lambda: "ready." in worker.output())
    first = worker.wait_for(
        "scheduled sweep run", lambda: SweepRun.objects.filter(trigger=SweepTrigger.SCHEDULE).order_by("id").first()
    )

    assert first.status == SweepStatus.SUCCEEDED, first.error
    assert (first.findings_opened, first.open_findings, first.notifications) == (1, 1, 2)
    finding = FreshnessFinding.objects.get(closed_at__isnull=True)
    assert (finding.version_id, finding.environment, finding.evidence_kind) == (version.pk, "production", "benchmark")
    assert finding.state == FindingState.STALE
    assert finding.blocks_promotions
    # The sweep's email task went through Redis to the worker, which sent each notice once.
    worker.wait_for("email of each notice", lambda: told_once_and_emailed(owners))
    assert not freshness_notices().filter(user=security_reviewer).exists()

    # The same task sent by hand to the same broker (as a redelivery would be): another run, nobody told again.
    from config.celery import app
    from freshness.tasks import evidence_freshness_sweep

    task_id = f"integration-{uuid.uuid4()}"
    saved = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url, app.conf.task_always_eager = broker, False
    try:
        with app.connection_for_write(broker) as broker_connection:
            evidence_freshness_sweep.apply_async(task_id=task_id, connection=broker_connection)
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
    second = worker.wait_for(
        "sweep run of the task sent by hand", lambda: SweepRun.objects.filter(task_id=task_id).first()
    )
    assert second.status == SweepStatus.SUCCEEDED, second.error
    assert (second.findings_opened, second.notifications, second.open_findings) == (0, 0, 1)

    # Beat keeps running it every 2 s: still one finding, one notice per owner, every run a success.
    worker.wait_for(
        "two more scheduled runs",
        lambda: SweepRun.objects.filter(trigger=SweepTrigger.SCHEDULE, pk__gt=second.pk).count() >= 2,
    )
    assert told_once_and_emailed(owners)
    assert FreshnessFinding.objects.count() == 1
    assert FreshnessFinding.objects.get().revision == 1
    assert not SweepRun.objects.exclude(status=SweepStatus.SUCCEEDED).exists()


def test_setup_schedules_creates_what_is_missing_and_keeps_admin_edits(db):
    """Idempotent: the shipped schedules exist once each, and an edited schedule is left as the admin set it."""
    call_command("setup_schedules", stdout=StringIO())
    expected = {
        "Daily sign-off reminders": ("approvals.tasks.signoff_reminders", "0", "8"),
        "Expire unused approvals": ("approvals.tasks.expire_approvals", "15", "*"),
        SWEEP_NAME: (SWEEP_TASK, "5", "*"),
        "Deliver due webhooks": ("webhooks.tasks.deliver_due", "*", "*"),
        "Daily readiness snapshot": ("readiness.tasks.readiness_snapshot", "30", "0"),
        "Warm the readiness inventory": ("readiness.tasks.readiness_warm", "*/10", "*"),
        "Expire reviewer grants": ("registry.tasks.expire_reviewer_grants", "*/15", "*"),
        "Audit chain checkpoint": ("registry.tasks.audit_checkpoint", "*/15", "*"),
        "Daily access review reminders": ("identity.tasks.access_review_reminders", "45", "7"),
    }
    # Whether the migrations or the command made them, they agree.
    for name, (task, minute, hour) in expected.items():
        periodic = PeriodicTask.objects.select_related("crontab").get(name=name)
        assert (periodic.task, periodic.crontab.minute, periodic.crontab.hour) == (task, minute, hour)

    sweep = PeriodicTask.objects.get(name=SWEEP_NAME)
    sweep.crontab, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="*/2", timezone="UTC")
    sweep.save()
    reminders = PeriodicTask.objects.get(name="Daily sign-off reminders")
    reminders.name = "Morning reminders"  # renamed, not a new schedule
    reminders.save()
    PeriodicTask.objects.filter(name="Expire unused approvals").delete()
    out = StringIO()

    call_command("setup_schedules", stdout=out)
    call_command("setup_schedules", stdout=out)

    shipped = len(shipped_schedules())
    assert f"Beat schedules: 1 created, {shipped - 1} already present." in out.getvalue()
    assert f"Beat schedules: 0 created, {shipped} already present." in out.getvalue()
    for task in (
        "approvals.tasks.signoff_reminders",
        "approvals.tasks.expire_approvals",
        SWEEP_TASK,
        "webhooks.tasks.deliver_due",
        "readiness.tasks.readiness_snapshot",
        "readiness.tasks.readiness_warm",
    ):
        assert PeriodicTask.objects.filter(task=task).count() == 1
    sweep.refresh_from_db()
    assert (sweep.crontab.minute, sweep.crontab.hour) == ("30", "*/2")
