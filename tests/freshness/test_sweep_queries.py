"""The sweep is set-based: its query count is the same for 2 live deployments as for 12, whether it opens
findings (and tells everyone), leaves them alone, changes their state or closes them. Each deployment has
its own feature, team, owners and people, so a per-row lookup shows."""

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from freshness.models import FreshnessFinding
from freshness.services import freshness_sweep
from registry.models import Notification
from tests.freshness.world import crowd, default_gates, evidence  # noqa: F401  (default_gates: autouse)

SMALL, LARGE = 2, 12


def counted(**kwargs):
    with CaptureQueriesContext(connection) as captured:
        run = freshness_sweep(**kwargs)
    return len(captured.captured_queries), run


def phases(versions, *, later):
    """Run every kind of sweep over ``versions`` (just made live, no evidence); the query count of each."""
    counts = {}
    counts["open"], run = counted()
    assert run.findings_opened == 3 * len(versions)
    counts["steady"], run = counted()
    assert (run.findings_opened, run.findings_updated, run.findings_closed) == (0, 0, 0)
    for version in versions:  # benchmark recorded 80 days ago: missing -> due soon; then stale when time passes
        evidence(version, "benchmark", age_days=80)
    counts["change"], run = counted()
    assert run.findings_updated == len(versions)
    counts["time passes"], run = counted(now=later)
    assert run.findings_updated == len(versions)
    for version in versions:
        for kind in ("benchmark", "safety", "privacy_review"):
            evidence(version, kind, age_days=0.01)
    counts["close"], run = counted(now=later)
    assert run.findings_closed == 3 * len(versions)
    return counts


def test_every_kind_of_sweep_costs_the_same_queries_for_2_as_for_12_live_deployments(db):
    freshness_sweep()  # warm per-process caches (the sweep lock row, content types)
    later = timezone.now() + timedelta(days=30)

    small = phases(crowd(SMALL, prefix="small"), later=later)
    large = phases(crowd(LARGE, prefix="large"), later=later)

    assert large == small, f"queries for {SMALL} deployments: {small}; for {LARGE}: {large}"
    # Everyone in each feature was told, so the constant count above covers the notices too.
    assert Notification.objects.filter(key__startswith="freshness:").values("user").distinct().count() == 3 * (
        SMALL + LARGE
    )
    assert not FreshnessFinding.objects.filter(closed_at__isnull=True).exists()


def test_a_steady_state_sweep_over_many_open_findings_stays_small(db, django_assert_max_num_queries):
    crowd(LARGE)
    freshness_sweep()
    assert FreshnessFinding.objects.filter(closed_at__isnull=True).count() == 3 * LARGE

    with django_assert_max_num_queries(25):
        freshness_sweep()
