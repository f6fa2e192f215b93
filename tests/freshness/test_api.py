"""Freshness over the API: findings and sweep runs listed, read and filtered with the pages' FilterSet, due
soon first; a sweep queued by a governance admin (202) and by nobody else (403); bearer tokens work as
sessions do; restricted features' findings do not exist for outsiders; the schema documents all of it; the
list costs the same queries for 2 findings as for 8."""

import pytest
from rest_framework.test import APIClient

from freshness.choices import SweepStatus
from freshness.models import SweepRun
from freshness.services import freshness_sweep
from registry.services import api_token_create
from tests.freshness.world import (  # noqa: F401  (default_gates: autouse; live, findings: fixtures)
    default_gates,
    findings,
    findings_grower,
    live,
)
from tests.query_counts import assert_constant

FINDINGS = "/api/v1/freshness/findings/"
RUNS = "/api/v1/freshness/runs/"


def as_user(user, name="tests"):
    """An API client authenticated the way machines are: a bearer token."""
    _, raw = api_token_create(actor=user, user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def listed(response):
    assert response.status_code == 200, response.content
    return [(row["feature"], row["evidence_kind"]) for row in response.json()["results"]]


# --- Findings ------------------------------------------------------------------------------------------


def test_the_findings_list_is_due_soon_first_and_says_what_each_is(findings, governance_admin):
    api = as_user(governance_admin)

    response = api.get(FINDINGS)

    rows = listed(response)
    assert rows[:4] == findings.open_order[:4] and set(rows[4:]) == set(findings.open_order[4:])
    stale = next(row for row in response.json()["results"] if row["state"] == "stale")
    assert stale["feature"] == "claims-triage" and stale["team"] == "claims" and stale["risk_tier"] == "high"
    assert stale["version"] == findings.claims.number and stale["version_id"] == findings.claims.pk
    assert (stale["environment"], stale["gate"], stale["evidence_kind"]) == ("production", "production", "safety")
    assert stale["open"] is True and stale["blocks_promotions"] is True and stale["closed_at"] is None
    assert stale["max_age_days"] == 90 and stale["revision"] == 1
    assert stale["detail"].startswith("Newest safety evaluation ran")
    assert stale["url"] == f"/freshness/findings/{stale['id']}/"
    due = next(row for row in response.json()["results"] if row["state"] == "due_soon")
    assert due["blocks_promotions"] is False and due["stale_at"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"state": "failing"}, [("payment-helper", "benchmark")]),
        ({"team": "payments"}, [("payment-helper", "safety"), ("payment-helper", "benchmark")]),
        ({"tier": "regulated"}, [("fraud-signals", "red_team")]),
        ({"status": "closed"}, [("mail-sorter", "benchmark")]),
        ({"blocking": "true", "team": "payments"}, [("payment-helper", "benchmark")]),
        ({"feature": "claims-triage", "state": "due_soon"}, [("claims-triage", "benchmark")]),
        ({"environment": "sandbox"}, []),
    ],
)
def test_the_findings_list_filters_like_the_dashboard(findings, governance_admin, query, expected):
    assert listed(as_user(governance_admin).get(FINDINGS, query)) == expected


def test_status_all_includes_closed_findings(findings, governance_admin):
    rows = listed(as_user(governance_admin).get(FINDINGS, {"status": "all"}))

    assert sorted(rows) == sorted(findings.open_order + [("mail-sorter", "benchmark")])


def test_an_unknown_filter_value_is_a_400_naming_the_field(findings, governance_admin):
    response = as_user(governance_admin).get(FINDINGS, {"state": "rotten"})

    assert response.status_code == 400
    assert "state" in response.json()


def test_an_open_finding_is_read_by_id(findings, product_owner):
    stale = findings.finding(findings.claims, "safety")

    response = as_user(product_owner).get(f"{FINDINGS}{stale.pk}/")

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["open"]) == ("stale", True)


def test_a_closed_finding_is_read_by_id(findings, product_owner):
    closed = findings.finding(findings.mail, "benchmark")

    response = as_user(product_owner).get(f"{FINDINGS}{closed.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert (body["open"], body["close_reason"], body["revision"]) == (False, "fresh", 2)


def test_restricted_findings_do_not_exist_for_outsiders(findings, outsider, other_product_owner, auditor):
    fraud = findings.finding(findings.fraud, "red_team")
    for person in (outsider, other_product_owner):
        api = as_user(person)
        assert ("fraud-signals", "red_team") not in listed(api.get(FINDINGS, {"status": "all"}))
        assert listed(api.get(FINDINGS, {"feature": "fraud-signals"})) == []
        assert api.get(f"{FINDINGS}{fraud.pk}/").status_code == 404

    assert as_user(auditor).get(f"{FINDINGS}{fraud.pk}/").status_code == 200


def test_signing_in_is_required(findings):
    assert APIClient().get(FINDINGS).status_code in (401, 403)
    assert APIClient().get(RUNS).status_code in (401, 403)


def test_the_findings_list_costs_the_same_queries_for_2_findings_as_for_8(
    client, governance_admin, django_assert_max_num_queries
):
    grow = findings_grower()
    client.force_login(governance_admin)
    assert_constant(client, FINDINGS, grow, django_assert_max_num_queries, max_queries=12)


# --- Sweep runs ------------------------------------------------------------------------------------------


def test_runs_are_listed_newest_first_and_read_by_id(findings, auditor, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr("freshness.services.audit_record_many", lambda entries: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            freshness_sweep()
    api = as_user(auditor)

    runs = api.get(RUNS).json()["results"]
    failed = api.get(RUNS, {"status": "failed"}).json()["results"]

    assert [run["status"] for run in runs] == ["failed", "succeeded", "succeeded"]
    assert runs[2]["findings_opened"] == 7 and runs[2]["open_findings"] == 7
    assert runs[1]["findings_closed"] == 1 and runs[1]["open_findings"] == 6
    assert [run["error"] for run in failed] == ["ZeroDivisionError: division by zero"]
    one = api.get(f"{RUNS}{runs[1]['id']}/").json()
    assert one["deployments_checked"] == 5 and one["trigger"] == "schedule" and one["duration_seconds"] >= 0


def test_run_figures_are_for_governance_and_auditors_only(findings, product_owner, outsider):
    for person in (product_owner, outsider):
        api = as_user(person)
        assert api.get(RUNS).status_code == 403
        assert api.get(f"{RUNS}{SweepRun.objects.first().pk}/").status_code == 403


def test_governance_queues_a_sweep_and_gets_202(live, governance_admin):
    live.version(kinds=("benchmark", "safety"))

    response = as_user(governance_admin).post(RUNS)

    assert response.status_code == 202
    assert set(response.json()) == {"task_id", "detail"}
    [run] = SweepRun.objects.all()  # the test run's Celery is eager: the run is already recorded
    assert (run.trigger, run.requested_by, run.status) == ("manual", governance_admin, SweepStatus.SUCCEEDED)
    assert run.findings_opened == 1


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "auditor", "security_reviewer", "outsider"])
def test_nobody_else_may_queue_a_sweep(request, persona):
    response = as_user(request.getfixturevalue(persona)).post(RUNS)

    assert response.status_code == 403
    assert "governance" in response.json()["detail"]
    assert not SweepRun.objects.exists()


def test_runs_cannot_be_changed_or_deleted(findings, governance_admin):
    run = SweepRun.objects.first()
    api = as_user(governance_admin)

    assert api.delete(f"{RUNS}{run.pk}/").status_code == 405
    assert api.patch(f"{RUNS}{run.pk}/", {"status": "failed"}, format="json").status_code == 405
    assert api.post(f"{FINDINGS}", {}, format="json").status_code == 405
    assert SweepRun.objects.get(pk=run.pk).status == "succeeded"


# --- The schema ------------------------------------------------------------------------------------------


def test_the_schema_documents_the_freshness_endpoints(client, outsider):
    client.force_login(outsider)

    schema = client.get("/api/schema/", {"format": "json"}).json()

    paths = schema["paths"]
    assert {
        "/api/v1/freshness/findings/",
        "/api/v1/freshness/findings/{id}/",
        "/api/v1/freshness/runs/",
        "/api/v1/freshness/runs/{id}/",
    } <= set(paths)
    assert set(paths["/api/v1/freshness/findings/"]) == {"get"}
    assert "202" in paths["/api/v1/freshness/runs/"]["post"]["responses"]
    parameters = {p["name"] for p in paths["/api/v1/freshness/findings/"]["get"]["parameters"]}
    assert {"state", "team", "tier", "status", "blocking", "feature"} <= parameters


def test_the_runs_list_costs_the_same_queries_for_2_runs_as_for_8(
    client, live, governance_admin, auditor, django_assert_max_num_queries
):
    live.version()

    def grow(n):
        for _ in range(n):
            freshness_sweep(trigger="manual", requested_by=governance_admin)

    client.force_login(auditor)
    assert_constant(client, RUNS, grow, django_assert_max_num_queries, max_queries=8)
