"""The freshness pages. The dashboard lists open findings due soon first (soonest first), then stale,
failing and missing, summarised by team and by tier, filtered by the shared FilterSet, paginated, with an
htmx partial and a word when there is nothing; it costs the same queries for 2 findings as for 8. A finding's
page tells its history; the run list shows each run. Only governance admins run the sweep from a page.
Restricted features' findings are invisible to those who cannot see the feature, everywhere."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from freshness.choices import SweepStatus
from freshness.models import SweepRun
from freshness.services import findings_escalate, freshness_sweep
from tests.freshness.world import (  # noqa: F401  (default_gates: autouse; live, findings: fixtures)
    default_gates,
    evidence,
    findings,
    findings_grower,
    live,
)
from tests.query_counts import assert_constant

DASHBOARD = reverse("freshness:dashboard")
RUNS = reverse("freshness:run_list")
RUN_NOW = reverse("freshness:run_sweep")


def listed(response):
    return [(finding.feature.slug, finding.evidence_kind) for finding in response.context["object_list"]]


def summary_rows(response, table):
    return {key: (row["counts"], row["total"]) for key, row in response.context["summary"][table]}


# --- The dashboard ----------------------------------------------------------------------------------


def test_the_dashboard_lists_open_findings_due_soon_first_soonest_first(client, findings, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    rows = listed(response)
    assert rows[:4] == findings.open_order[:4]
    assert set(rows[4:]) == set(findings.open_order[4:])
    page = response.content.decode()
    assert "blocks promotions" in page
    assert "Newest safety evaluation ran" in page


def test_the_summary_counts_open_findings_by_team_and_by_tier(client, findings, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD)

    # counts in the order due soon, stale, failing, missing
    assert summary_rows(response, "by_team") == {"claims": ([1, 1, 0, 2], 4), "payments": ([1, 0, 1, 0], 2)}
    assert summary_rows(response, "by_tier") == {
        "high": ([1, 1, 0, 1], 3),
        "medium": ([1, 0, 1, 0], 2),
        "regulated": ([0, 0, 0, 1], 1),
    }
    assert [label for label in response.context["summary"]["states"]] == ["Due soon", "Stale", "Failing", "Missing"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"state": "stale"}, [("claims-triage", "safety")]),
        ({"state": "due_soon"}, [("payment-helper", "safety"), ("claims-triage", "benchmark")]),
        ({"team": "payments"}, [("payment-helper", "safety"), ("payment-helper", "benchmark")]),
        ({"tier": "regulated"}, [("fraud-signals", "red_team")]),
        ({"tier": "low"}, []),
        ({"status": "closed"}, [("mail-sorter", "benchmark")]),
        ({"status": "closed", "tier": "low"}, [("mail-sorter", "benchmark")]),
        ({"feature": "claims-triage", "state": "missing"}, [("claims-triage", "privacy_review")]),
        ({"q": "payment"}, [("payment-helper", "safety"), ("payment-helper", "benchmark")]),
        ({"blocking": "true", "team": "payments"}, [("payment-helper", "benchmark")]),
    ],
)
def test_the_filters_narrow_the_list(client, findings, governance_admin, query, expected):
    client.force_login(governance_admin)

    assert listed(client.get(DASHBOARD, query)) == expected


def test_status_all_lists_open_and_closed(client, findings, governance_admin):
    client.force_login(governance_admin)

    rows = listed(client.get(DASHBOARD, {"status": "all"}))

    assert sorted(rows) == sorted(findings.open_order + [("mail-sorter", "benchmark")])


def test_the_feature_filter_takes_an_id_as_badges_link_it(client, findings, governance_admin):
    client.force_login(governance_admin)

    rows = listed(client.get(DASHBOARD, {"feature": findings.payments_feature.pk}))
    by_version = listed(client.get(DASHBOARD, {"version": findings.claims.pk, "state": "stale"}))

    assert rows == [("payment-helper", "safety"), ("payment-helper", "benchmark")]
    assert by_version == [("claims-triage", "safety")]


def test_with_status_all_open_findings_come_before_closed_ones(client, findings, governance_admin):
    client.force_login(governance_admin)

    rows = listed(client.get(DASHBOARD, {"status": "all"}))

    assert rows[-1] == ("mail-sorter", "benchmark")
    assert rows[:4] == findings.open_order[:4]


def test_the_list_is_paginated(client, findings, governance_admin, settings):
    settings.GATEHOUSE_PAGE_SIZE = 4
    client.force_login(governance_admin)

    first = client.get(DASHBOARD)
    second = client.get(DASHBOARD, {"page": 2})
    beyond = client.get(DASHBOARD, {"page": 99})

    assert listed(first) == findings.open_order[:4]
    assert set(listed(second)) == set(findings.open_order[4:])
    assert listed(beyond) == listed(second)
    assert "1–4 of 6" in first.content.decode()
    assert "Page 1 of 2" in first.content.decode()


def test_htmx_filtering_gets_the_results_table_only(client, findings, governance_admin):
    client.force_login(governance_admin)

    response = client.get(DASHBOARD, {"state": "failing"}, HTTP_HX_REQUEST="true")

    page = response.content.decode()
    assert [template.name for template in response.templates][0] == "freshness/partials/finding_table.html"
    assert "<html" not in page and "Payment helper" in page


def test_with_nothing_found_the_dashboard_says_evidence_is_fresh(client, live, governance_admin):
    live.version()  # fresh, passing evidence
    freshness_sweep()
    client.force_login(governance_admin)

    page = client.get(DASHBOARD).content.decode()

    assert "No open findings: every live version's evidence is fresh and passing under its gate." in page
    assert "1 deployment checked, 0 opened, 0 closed. 0 open findings now." in page


def test_a_filter_matching_nothing_says_so(client, findings, governance_admin):
    client.force_login(governance_admin)

    page = client.get(DASHBOARD, {"tier": "low"}).content.decode()

    assert "No finding matches these filters." in page


def test_before_the_first_sweep_the_dashboard_says_so(client, governance_admin, product_owner):
    client.force_login(product_owner)
    page = client.get(DASHBOARD).content.decode()
    assert "The sweep has not run yet." in page
    assert "Run the sweep now" not in page

    client.force_login(governance_admin)
    assert "Run the sweep now" in client.get(DASHBOARD).content.decode()


def test_signing_in_is_required(client, findings):
    response = client.get(DASHBOARD)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_dashboard_costs_the_same_queries_for_2_findings_as_for_8(
    client, governance_admin, django_assert_max_num_queries
):
    grow = findings_grower()
    client.force_login(governance_admin)
    assert_constant(client, DASHBOARD, grow, django_assert_max_num_queries, max_queries=25)


# --- Who sees what -----------------------------------------------------------------------------------


def test_restricted_features_findings_are_invisible_to_outsiders(client, findings, outsider, other_product_owner):
    fraud = findings.finding(findings.fraud, "red_team")
    for person in (outsider, other_product_owner):
        client.force_login(person)
        response = client.get(DASHBOARD, {"status": "all"})

        assert ("fraud-signals", "red_team") not in listed(response)
        assert "Fraud signals" not in response.content.decode()
        assert summary_rows(response, "by_team")["claims"] == ([1, 1, 0, 1], 3)
        assert "regulated" not in summary_rows(response, "by_tier")
        assert client.get(fraud.get_absolute_url()).status_code == 404
        assert listed(client.get(DASHBOARD, {"feature": "fraud-signals"})) == []


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "governance_admin", "auditor"])
def test_the_team_governance_and_auditors_see_restricted_findings(client, request, findings, persona):
    client.force_login(request.getfixturevalue(persona))

    assert ("fraud-signals", "red_team") in listed(client.get(DASHBOARD))
    assert client.get(findings.finding(findings.fraud, "red_team").get_absolute_url()).status_code == 200


# --- A finding's page -----------------------------------------------------------------------------------


def test_a_findings_page_tells_what_is_wrong_and_its_history(client, findings, product_owner):
    finding = findings.finding(findings.mail, "benchmark")
    client.force_login(product_owner)

    response = client.get(finding.get_absolute_url())

    page = response.content.decode()
    assert response.status_code == 200
    assert "benchmark evidence of v1 in production" in page
    assert "Fresh, passing evidence recorded" in page
    assert [event.action for event in response.context["history"]] == [
        "freshness_finding.opened",
        "freshness_finding.closed",
    ]
    assert [d.region.code for d in response.context["live_regions"]] == ["eu"]


def test_a_blocking_findings_page_says_promotions_are_refused_and_links_the_incident(client, findings, product_owner):
    finding = findings.finding(findings.claims, "safety")
    incident = findings_escalate(feature_id=findings.claims_feature.pk, now=timezone.now() + timedelta(days=8))
    client.force_login(product_owner)

    page = client.get(finding.get_absolute_url()).content.decode()

    assert "New promotions of Claims triage are refused" in page
    assert "Rollbacks stay allowed." in page
    assert reverse("incidents:incident_detail", args=[incident.pk]) in page
    assert "<code>eu</code> <code>us</code>" in page


def test_an_unknown_finding_is_404(client, governance_admin):
    client.force_login(governance_admin)

    assert client.get(reverse("freshness:finding_detail", args=[999999])).status_code == 404


# --- Sweep runs and the button ----------------------------------------------------------------------------


def test_the_run_list_shows_each_run_with_what_it_did(client, findings, auditor, monkeypatch):
    monkeypatch.setattr("freshness.services.audit_record_many", lambda entries: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        freshness_sweep()
    client.force_login(auditor)

    response = client.get(RUNS)
    failed_only = client.get(RUNS, {"status": "failed"})

    runs = list(response.context["object_list"])
    assert [run.status for run in runs] == [SweepStatus.FAILED, SweepStatus.SUCCEEDED, SweepStatus.SUCCEEDED]
    assert "ZeroDivisionError: division by zero" in response.content.decode()
    assert [run.status for run in failed_only.context["object_list"]] == [SweepStatus.FAILED]
    assert "Run the sweep now" not in response.content.decode()


def test_run_figures_count_restricted_features_so_only_those_who_see_everything_read_them(
    client, findings, product_owner, outsider
):
    for person in (product_owner, outsider):
        client.force_login(person)
        assert client.get(RUNS).status_code == 403
        dashboard = client.get(DASHBOARD).content.decode()
        assert "deployments checked" not in dashboard and "Sweep runs" not in dashboard


def test_governance_runs_the_sweep_from_the_page(client, live, governance_admin):
    live.version(kinds=("benchmark", "safety"))
    client.force_login(governance_admin)
    assert "Run the sweep now" in client.get(RUNS).content.decode()

    response = client.post(RUN_NOW, follow=True)

    assert response.redirect_chain == [(RUNS, 302)]
    [run] = SweepRun.objects.all()
    assert (run.trigger, run.requested_by, run.findings_opened) == ("manual", governance_admin, 1)
    assert "Sweep queued." in response.content.decode()


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "auditor", "support_agent", "outsider"])
def test_nobody_else_may_run_the_sweep(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert "Run the sweep now" not in client.get(DASHBOARD).content.decode()
    assert client.post(RUN_NOW).status_code == 403
    assert not SweepRun.objects.exists()


def test_the_run_button_answers_post_only(client, governance_admin):
    client.force_login(governance_admin)

    assert client.get(RUN_NOW).status_code == 405
    assert not SweepRun.objects.exists()


# --- From the finding to fresh evidence ---------------------------------------------------------------------


def test_the_team_records_fresh_evidence_from_the_findings_page_and_it_closes(
    client, findings, ml_engineer, django_capture_on_commit_callbacks
):
    finding = findings.finding(findings.claims, "safety")
    client.force_login(ml_engineer)
    page = client.get(finding.get_absolute_url()).content.decode()
    record = reverse("registry:evaluation_create", args=["claims-triage", findings.claims.number]) + "?kind=safety"
    assert f'href="{record}"' in page
    assert client.get(record).context["form"]["kind"].value() == "safety"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            record,
            {
                "kind": "safety",
                "suite": "harm-v2",
                "metric": "pass_rate",
                "score": "0.97",
                "threshold": "0.9",
                "higher_is_better": "on",
                "run_at": (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
            },
        )

    assert response.status_code == 302
    finding.refresh_from_db()
    assert (finding.close_reason, finding.closed_at is not None) == ("fresh", True)
    page = client.get(finding.get_absolute_url()).content.decode()
    assert "Fresh, passing evidence recorded" in page
    assert record not in page  # nothing left to record on a closed finding


@pytest.mark.parametrize("persona", ["other_product_owner", "auditor", "security_reviewer"])
def test_only_the_team_is_offered_to_record_evidence(client, request, findings, persona):
    finding = findings.finding(findings.claims, "safety")
    client.force_login(request.getfixturevalue(persona))

    page = client.get(finding.get_absolute_url()).content.decode()

    assert "Record safety evidence" not in page


def test_the_run_list_costs_the_same_queries_for_2_runs_as_for_8(
    client, live, governance_admin, auditor, django_assert_max_num_queries
):
    live.version()

    def grow(n):
        for _ in range(n):
            freshness_sweep(trigger="manual", requested_by=governance_admin)

    client.force_login(auditor)
    assert_constant(client, RUNS, grow, django_assert_max_num_queries, max_queries=10)
