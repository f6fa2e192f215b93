"""seed_demo writes a history spread over the past weeks, in order, through the services: ages, times to
mitigate and charts have something to show, the audit chain verifies, and a second run adds nothing."""

import ast
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import TestCase
from django.test.utils import override_settings
from django.utils import timezone

pytestmark = pytest.mark.slow  # seeds the whole ten-week demo: `make test-fast` leaves it out

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo organisation, seeded once for the module and rolled back when it ends."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = io.StringIO()
        # The freshness sweep runs once the seeding commits: run it as if it had.
        with override_settings(DEBUG=True), TestCase.captureOnCommitCallbacks(execute=True):
            call_command("seed_demo", stdout=output, stderr=io.StringIO())  # seed_demo needs debug on
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def world(seeded, db):
    """The seeded organisation; each test's own writes are undone after it (the seeding stays)."""
    return seeded


def test_everything_planned_goes_in(world):
    assert "skipped" not in world


def test_history_spans_weeks(world):
    from approvals.models import ApprovalRequest
    from incidents.models import Incident
    from registry.models import AIFeature, DeploymentEvent, Evaluation

    today = timezone.localdate()
    registered = [timezone.localdate(at) for at in AIFeature.objects.values_list("created_at", flat=True)]
    assert min(registered) <= today - timedelta(weeks=9) and max(registered) >= today - timedelta(weeks=7)
    assert all(today - timedelta(weeks=11) <= day <= today - timedelta(weeks=5) for day in registered)
    days = {timezone.localdate(at) for at in DeploymentEvent.objects.values_list("at", flat=True)}
    days |= {timezone.localdate(at) for at in Incident.objects.values_list("detected_at", flat=True)}
    assert len(days) >= 10
    assert len({timezone.localdate(at) for at in Evaluation.objects.values_list("run_at", flat=True)}) >= 20
    # Promotions and sign-offs in working hours on weekdays, sign-offs after their request.
    for at in DeploymentEvent.objects.values_list("at", flat=True):
        local = timezone.localtime(at)
        assert local.weekday() < 5 and 9 <= local.hour < 18, local
    for request in ApprovalRequest.objects.prefetch_related("signoffs"):
        for signoff in request.signoffs.all():
            if signoff.decided_at:
                assert request.created_at < signoff.decided_at < request.created_at + timedelta(days=4)


def test_incidents_take_minutes_to_hours_to_mitigate(world):
    from incidents.models import Incident

    mitigated = list(Incident.objects.exclude(mitigated_at=None).order_by("-detected_at"))
    assert len(mitigated) >= 3
    for incident in mitigated:
        assert timedelta(minutes=5) < incident.mitigated_at - incident.impact_start < timedelta(hours=12)
        assert incident.impact_start < incident.detected_at < incident.mitigated_at
    newest = Incident.objects.order_by("-detected_at").first()
    assert timezone.now() - newest.detected_at > timedelta(minutes=30)  # not "0 minutes ago"


def test_one_serious_incident_has_its_clock_running_an_initial_report_and_evidence(world):
    from incidents.models import Incident

    [serious] = Incident.objects.exclude(serious_criteria=[])
    now = timezone.now()
    assert now - timedelta(days=7) < serious.aware_at < now - timedelta(days=2), "aware a few days ago"
    assert serious.report_clock_running and not serious.report_overdue
    assert list(serious.submissions.values_list("kind", flat=True)) == ["initial"]
    [snapshot] = serious.snapshots.all()
    assert snapshot.trigger == "rollback" and snapshot.taken_at < serious.mitigated_at
    assert next(row for row in snapshot.content["live"] if row["incident_pointer"])["version"] == 2


def test_audit_events_are_in_time_order_and_verify(world):
    from registry.models import AuditEvent
    from registry.services.audit import audit_verify

    times = list(AuditEvent.objects.order_by("sequence").values_list("at", flat=True))
    assert times == sorted(times)
    assert times[0] < timezone.now() - timedelta(weeks=6)
    assert audit_verify().ok
    output = io.StringIO()
    call_command("audit_verify", stdout=output)
    assert f"{len(times)} events verified" in output.getvalue()


def test_readiness_history_is_taken_day_by_day(world):
    from readiness.models import ReadinessSnapshot

    days = sorted(set(ReadinessSnapshot.objects.values_list("day", flat=True)))
    assert len(days) == 56 and days[-1] == timezone.localdate()
    first, last = (ReadinessSnapshot.objects.filter(day=day, live=True).count() for day in (days[0], days[-1]))
    assert first < last  # features went live during those weeks


def test_the_high_risk_and_regulated_features_have_monitoring_plans(world):
    from freshness.models import MonitoringPlan

    triage = MonitoringPlan.objects.get(feature__slug="claims-triage")
    assert triage.reviewer.username == "legal" and triage.reviews.count() == 1
    assert {rule.kind for rule in triage.evaluations.all()} == {"benchmark", "safety"}
    assert triage.monitors == triage.feature.monitor_links
    kyc = MonitoringPlan.objects.get(feature__slug="kyc-document-check")
    assert kyc.reviewer_role == "governance" and kyc.created_at < triage.reviews.get().reviewed_at


def test_a_second_run_adds_nothing(world):
    from registry.models import AuditEvent

    before = AuditEvent.objects.count()
    output = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=output, stderr=io.StringIO())
    assert "Added this run: nothing (all present)." in output.getvalue()
    assert AuditEvent.objects.count() == before


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_nothing_outside_the_demo_and_the_tests_imports_the_demo():
    offenders = []
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        # var/ holds what make installs (the MLflow test server's virtualenv), site/ the built docs.
        if relative.parts[0] in {"demo", "tests", ".venv", "node_modules", "var", "site"} or relative.parts[
            0
        ].startswith("."):
            continue
        if any(name == "demo" or name.startswith("demo.") for name in _imports(path)):
            offenders.append(str(relative))
    assert offenders == []
