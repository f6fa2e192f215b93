"""Evidence freshness end to end in the browser: the sweep finds production benchmark evidence gone stale
and freezes promotions; governance reads it on the Freshness page, filters, opens the finding and runs the
sweep on demand; the ML engineer follows the finding to the evaluation form, records fresh evidence, and the
badge, the freeze and the finding are gone at once. Throughout, the approved v2 may replace v1 (the fix
forward is never frozen); it is promoted at the end."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from freshness.models import FreshnessFinding, SweepLock, SweepRun
from freshness.services import freshness_sweep
from registry.models import Deployment, Evaluation
from registry.services import evaluation_record, version_create, version_submit
from tests.browser.navigation import nav_to
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    RegionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

EVIDENCE = (
    ("benchmark", "rerank-gold", "ndcg@10"),
    ("safety", "harm-v2", "refusal"),
    ("privacy_review", "dpia", "passed"),
)


@pytest.fixture
def stale_release(team, product_owner, ml_engineer, security_reviewer, legal_reviewer):
    """Claims triage (claims team, high risk): v1 live in production/eu whose benchmark ran 120 days ago
    (the production gate accepts 90), safety and privacy review fresh; v2 approved for production, not
    promoted. The sweep has run once."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    SweepLock.objects.get_or_create(pk=1)
    eu = RegionFactory(code="eu", name="European Union")
    feature = FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        risk_tier="high",
        regions=[eu],
        rollback_path="Roll back in Gatehouse.",
        monitors="https://grafana.example.test/d/claims",
        accountable_owner=product_owner,
        incident_owner=product_owner,
    )
    pins = {
        "model": CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu]),
        "policy_pack": PolicyPackFactory(allowed_regions=[eu]),
    }
    signers = {
        "legal": legal_reviewer,
        "ml": UserFactory(username="ml-two", roles=["ml"]),
        "product": product_owner,
        "security": security_reviewer,
    }

    def approved(number, summary):
        version = version_submit(
            actor=ml_engineer,
            version=version_create(
                actor=ml_engineer,
                feature=feature,
                prompt=PromptVersionFactory(name="triage", version=number),
                change_summary=summary,
                **pins,
            ),
        )
        for kind, suite, metric in EVIDENCE:
            evaluation_record(
                actor=ml_engineer,
                version=version,
                kind=kind,
                suite=suite,
                metric=metric,
                score=0.95,
                threshold=0.9,
                run_at=timezone.now() - timedelta(days=2),
            )
        request = approval_request_create(actor=ml_engineer, version=version, environment="production", regions=[eu])
        for signoff in request.signoffs.all():
            signoff_decide(actor=signers[signoff.role], signoff=signoff, decision="approve", reason="ok")
        return version, request

    v1, first = approved(1, "First release.")
    promotion_execute(actor=product_owner, request=first)
    # Four months pass for the benchmark: it was last run 120 days ago (the others were re-run since).
    Evaluation.objects.filter(version=v1, kind="benchmark").update(run_at=timezone.now() - timedelta(days=120))
    v2, second = approved(2, "Sharper urgency prompt.")
    freshness_sweep()
    return {"feature": feature, "v1": v1, "v2": v2, "second": second}


def test_stale_production_evidence_freezes_promotions_until_fresh_evidence_is_recorded(
    as_user, live_server, stale_release, ml_engineer, governance_admin
):
    feature, v1, v2 = stale_release["feature"], stale_release["v1"], stale_release["v2"]
    finding = FreshnessFinding.objects.get()
    assert (finding.version, finding.environment, finding.evidence_kind, finding.state) == (
        v1,
        "production",
        "benchmark",
        "stale",
    )

    # --- Governance reads the Freshness page from the nav. ---------------------------------------------
    governance = as_user(governance_admin)
    nav_to(governance, "Freshness")
    expect(governance.locator("h1")).to_have_text("Evidence freshness")
    expect(governance.locator("#last-run")).to_contain_text("1 opened")
    row = governance.locator("#results tbody tr", has_text="Claims triage")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Stale")
    expect(row).to_contain_text("blocks promotions")
    expect(row).to_contain_text("Benchmark")
    expect(row).to_contain_text("the gate accepts at most 90 days")

    # The summary counts it by team and by tier (columns: due soon, stale, failing, missing, total).
    by_team = governance.locator("table.summary").nth(0)
    expect(by_team.locator("tbody tr")).to_have_count(1)
    expect(by_team.locator("tbody tr td")).to_have_text(["Claims", "·", "1", "·", "·", "1"])
    by_tier = governance.locator("table.summary").nth(1)
    expect(by_tier.locator("tbody tr td")).to_have_text(["High", "·", "1", "·", "·", "1"])

    # The htmx filter form narrows the findings in place and keeps the URL shareable.
    governance.select_option("#id_state", "due_soon")
    expect(governance.locator("#results")).to_contain_text("No finding matches these filters")
    expect(governance).to_have_url(re.compile(r"[?&]state=due_soon"))
    governance.select_option("#id_state", "stale")
    expect(governance.locator("#results tbody tr")).to_have_count(1)
    expect(governance).to_have_url(re.compile(r"[?&]state=stale"))

    # The finding's page explains the rule and tells its history.
    governance.locator("#results tbody tr").first.get_by_role("link", name="Stale").click()
    expect(governance.locator("h1")).to_have_text("Claims triage: benchmark evidence of v1 in production")
    expect(governance.locator(".page-head")).to_contain_text("blocks promotions")
    expect(governance.locator("dl.kv")).to_contain_text("at most 90 days old")
    expect(governance.locator("table")).to_contain_text("freshness_finding.opened")

    # Sweep runs: one so far; governance runs one now and sees it listed (Celery is eager in tests).
    governance.locator(".breadcrumbs").get_by_role("link", name="Freshness").click()
    governance.get_by_role("link", name="Sweep runs").click()
    expect(governance.locator("h1")).to_have_text("Sweep runs")
    expect(governance.locator("#results tbody tr")).to_have_count(1)
    governance.get_by_role("button", name="Run the sweep now").click()
    expect(governance.locator(".messages")).to_contain_text("Sweep queued")
    expect(governance.locator("#results tbody tr")).to_have_count(2)
    expect(governance.locator("#results tbody tr").first).to_contain_text(
        f"Run by a person ({governance_admin.username})"
    )
    assert SweepRun.objects.count() == 2
    assert FreshnessFinding.objects.filter(closed_at__isnull=True).count() == 1  # nothing changed: still stale

    # --- The ML engineer sees the badge and the freeze. ------------------------------------------------
    ml = as_user(ml_engineer)
    ml.goto(f"{live_server.url}/features/")
    feature_row = ml.locator("#results tbody tr", has_text="Claims triage")
    expect(feature_row.locator(".badge", has_text="Evidence stale")).to_be_visible()
    feature_row.get_by_role("link", name="Claims triage").click()
    expect(ml.locator("h1")).to_contain_text("Evidence stale")
    freeze = ml.locator(".messages li.error", has_text="Promotions frozen.")
    expect(freeze).to_contain_text("Production benchmark evidence of v1 is stale")
    expect(freeze).to_contain_text("Record fresh, passing benchmark evidence")
    panel = ml.locator("h2", has_text="Evidence freshness")
    expect(panel).to_be_visible()
    expect(ml.locator("main")).to_contain_text(
        "New promotions are blocked: production evidence of v1 (benchmark, stale)"
    )

    expect(freeze).to_contain_text("or replace it in production with a version whose evidence passes")
    # Replacing v1 with the approved v2 is the other way out: its promote page warns of no freeze.
    ml.goto(f"{live_server.url}/approvals/requests/{stale_release['second'].pk}/promote/")
    expect(ml.locator("h1")).to_contain_text("Promote Claims triage v2")
    expect(ml.locator(".errorlist[role=status]")).to_have_count(0)

    # From the finding to the evaluation form, preselected for benchmark on v1.
    ml.goto(f"{live_server.url}{feature.get_absolute_url()}")
    ml.locator("a[href*='/freshness/findings/']", has_text="Stale").first.click()
    expect(ml.locator("h1")).to_have_text("Claims triage: benchmark evidence of v1 in production")
    ml.get_by_role("link", name="Record benchmark evidence on v1").click()
    expect(ml.locator("h1")).to_contain_text("Attach an evaluation to Claims triage v1")
    expect(ml.locator("#id_kind")).to_have_value("benchmark")
    ml.fill("#id_suite", "rerank-gold")
    ml.fill("#id_metric", "ndcg@10")
    ml.fill("#id_score", "0.96")
    ml.fill("#id_threshold", "0.9")
    ml.get_by_role("button", name="Record evaluation").click()
    expect(ml.locator(".messages")).to_contain_text("Recorded the evaluation")

    # The finding closed at once: no badge, no freeze on the feature page.
    ml.goto(f"{live_server.url}{feature.get_absolute_url()}")
    expect(ml.locator("h1")).to_have_text("Claims triage")
    expect(ml.locator("h1 .badge")).to_have_count(0)
    expect(ml.locator("main")).not_to_contain_text("Promotions frozen.")
    expect(ml.locator("main")).to_contain_text("Evidence is fresh: no open findings from the freshness sweep.")
    ml.goto(f"{live_server.url}/features/")
    expect(
        ml.locator("#results tbody tr", has_text="Claims triage").locator(".badge", has_text="Evidence")
    ).to_have_count(0)

    # The Freshness page, open and closed, shows it Closed.
    ml.goto(f"{live_server.url}/freshness/?status=all")
    closed = ml.locator("#results tbody tr", has_text="Claims triage")
    expect(closed).to_have_count(1)
    expect(closed).to_contain_text("Closed")
    expect(closed).not_to_contain_text("blocks promotions")
    finding.refresh_from_db()
    assert finding.close_reason == "fresh"

    # And the approved v2 now promotes.
    ml.goto(f"{live_server.url}/approvals/requests/{stale_release['second'].pk}/promote/")
    ml.get_by_role("button", name="Promote v2").click()
    expect(ml.locator(".messages")).to_contain_text("live in production (eu)")
    assert Deployment.objects.get(feature=feature, environment="production").version == v2
