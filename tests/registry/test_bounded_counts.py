"""The lists that grow without end (the audit trail, evaluations) count at most ``COUNT_LIMIT`` rows: below
it the count is exact; beyond, it is a floor (``count_exact`` false, "more than" on the page) and every
page stays reachable by ``next``. The limit is lowered here so a handful of rows cross it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.pagination import BoundedCountPaginator
from registry.models import AuditEvent, Evaluation
from registry.services.audit import audit_record
from tests.factories import VersionFactory
from tests.registry.test_api import (  # noqa: F401  (fixtures)
    AUDIT_EVENTS,
    EVALUATIONS,
    as_user,
    eu_region,
    feature,
    restricted_feature,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(governance_admin):
    """Seven events or more (whatever the fixtures recorded, plus seven notes)."""
    for n in range(7):
        audit_record(actor=governance_admin, action="note.added", object_type="note", object_id=n)
    return AuditEvent.objects.count()


def every_page(api, url):
    rows, pages = [], []
    while url:
        body = api.get(url).json()
        pages.append(body)
        rows += body["results"]
        url = body["next"] and body["next"].split("testserver", 1)[1]
    return rows, pages


def test_beyond_the_limit_the_count_is_a_floor_and_next_still_reaches_every_event(trail, governance_admin, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "count_limit", 3)
    api = as_user(governance_admin)
    rows, pages = every_page(api, f"{AUDIT_EVENTS}?page_size=2")

    assert [row["sequence"] for row in rows] == sorted(AuditEvent.objects.values_list("sequence", flat=True))[::-1]
    assert all((page["count"], page["count_exact"]) == (3, False) for page in pages)
    assert pages[-1]["next"] is None and pages[1]["previous"].endswith("page_size=2")
    beyond = (trail + 1) // 2 + 1
    assert api.get(AUDIT_EVENTS, {"page_size": 2, "page": beyond}).status_code == 404


def test_below_the_limit_the_count_is_exact(trail, governance_admin):  # noqa: ARG001  (the trail's events)
    api = as_user(governance_admin)  # its token's creation is audited too
    body = api.get(AUDIT_EVENTS, {"page_size": 2}).json()
    assert (body["count"], body["count_exact"]) == (AuditEvent.objects.count(), True) and body["count"] > 2


def test_the_count_reads_at_most_one_row_past_the_limit(trail, governance_admin, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "count_limit", 3)
    with CaptureQueriesContext(connection) as queries:
        as_user(governance_admin).get(AUDIT_EVENTS)
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0]


def test_a_version_id_beyond_the_columns_range_is_refused_not_an_error(governance_admin):
    answer = as_user(governance_admin).get(EVALUATIONS, {"version": "-1.19e143", "page": -3})
    assert answer.status_code == 400 and "version" in answer.json()


def test_the_audit_page_says_more_than_and_pages_on(client, trail, governance_admin, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "count_limit", 3)
    monkeypatch.setattr("registry.views.audit.AuditEventListView.paginate_by", 2)
    client.force_login(governance_admin)

    first = client.get("/audit/").content.decode()
    assert "1–2 of more than 3" in first and "The whole trail (more than 3 events)" in first
    assert "Page 1</span>" in first and "page=2" in first and " of 2</span>" not in first
    last = client.get("/audit/", {"page": (trail + 1) // 2}).content.decode()
    assert "Next →" not in last and "← Previous" in last
    assert client.get("/audit/", {"page": 999}).status_code == 200  # a page there is, not a 404


def test_an_outsider_counts_only_the_evaluations_they_may_see(restricted_feature, feature, outsider, monkeypatch):
    monkeypatch.setattr(BoundedCountPaginator, "count_limit", 1)
    for owner in (restricted_feature, feature, feature):
        Evaluation.objects.create(
            version=VersionFactory(feature=owner, number=Evaluation.objects.filter(version__feature=owner).count() + 1),
            kind="benchmark",
            suite="s",
            metric="m",
            score=0.9,
            threshold=0.8,
            passed=True,
            run_at=timezone.now(),
            recorded_by=owner.accountable_owner,
        )
    body = as_user(outsider).get(EVALUATIONS).json()
    assert (body["count"], body["count_exact"], len(body["results"])) == (1, False, 2)
    monkeypatch.setattr(BoundedCountPaginator, "count_limit", 2)
    body = as_user(outsider).get(EVALUATIONS).json()
    assert (body["count"], body["count_exact"]) == (2, True)  # the restricted feature's is in no count
