"""A feature's post-market monitoring plan: which monitors watch it, which evaluations are run again how
often, who reviews it and how often. The feature's team and governance admins make and change it (audited);
the sweep holds every live production version to it: an evaluation kind older than its interval, or none
at all, opens a "monitoring plan" finding, as does an overdue review; running the evaluation again or
recording the review closes it. Plan findings never block promotions, they escalate after the production
gate's grace period. Times are travelled through the sweep's ``now``."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from freshness.choices import CloseReason, FindingKind, FindingState
from freshness.guards import freshness_block
from freshness.models import FreshnessFinding, MonitoringPlan
from freshness.plans import can_record_review, plan_save, review_record
from freshness.services import findings_escalate, freshness_sweep
from registry.models import AuditEvent, Deployment, Notification
from registry.services import evaluation_record
from tests.factories import UserFactory
from tests.freshness.world import days_ago, default_gates, evidence, fresh, live  # noqa: F401

DASH = "https://grafana.example.test/d/claims"
ALERTS = "https://alerts.example.test/rules/claims"


def plan_findings(**filters):
    return FreshnessFinding.objects.filter(kind=FindingKind.MONITORING_PLAN, closed_at__isnull=True, **filters)


@pytest.fixture
def feature(live):
    return live.feature(monitors=f"{DASH}\n{ALERTS}", slug="claims-triage")


@pytest.fixture
def version(live, feature):
    """Live in production with every gate kind run a day ago (the gate is satisfied)."""
    return live.version(feature=feature)


def make_plan(actor, feature, *, evaluations=None, review_days=30, reviewer=None, role="", now=None):
    return plan_save(
        actor=actor,
        feature=feature,
        reason="Post-market monitoring.",
        monitors=[DASH],
        notes="Drift in triage queue sizes; complaints.",
        reviewer=reviewer,
        reviewer_role=role or ("" if reviewer else "legal"),
        review_interval_days=review_days,
        evaluations={"benchmark": 30} if evaluations is None else evaluations,
        now=now,
    )


# --- The sweep enforces the plan -----------------------------------------------------------------------


def test_an_evaluation_older_than_its_interval_opens_a_monitoring_plan_finding(version, product_owner):
    make_plan(product_owner, version.feature, evaluations={"safety": 30})
    ran = version.evaluations.get(kind="safety").run_at

    freshness_sweep(now=ran + timedelta(days=20))
    assert not plan_findings(evidence_kind="safety").exists()  # 10 days left: not yet due soon

    freshness_sweep(now=ran + timedelta(days=25))
    [finding] = plan_findings(evidence_kind="safety")
    assert finding.state == FindingState.DUE_SOON and finding.stale_at == ran + timedelta(days=30)

    freshness_sweep(now=ran + timedelta(days=30, minutes=1))
    finding = fresh(finding)
    assert (finding.state, finding.version, finding.environment) == (FindingState.STALE, version, "production")
    assert finding.max_age_days == 30 and finding.revision == 2
    assert "every 30 days" in finding.describe()
    # The gate's own evidence rule (90 days) is still met: no gate finding on safety.
    assert not FreshnessFinding.objects.filter(kind=FindingKind.EVIDENCE, evidence_kind="safety").exists()


def test_a_kind_never_run_on_the_live_version_is_missing(version, product_owner):
    make_plan(product_owner, version.feature, evaluations={"bias": 60})

    freshness_sweep()

    [finding] = plan_findings(evidence_kind="bias")
    assert (finding.state, finding.evaluation) == (FindingState.MISSING, None)
    assert finding.blocking_since is not None  # counts towards escalation from now


def test_running_the_evaluation_again_closes_the_finding(
    version, product_owner, ml_engineer, django_capture_on_commit_callbacks
):
    evidence(version, "bias", age_days=45)
    make_plan(product_owner, version.feature, evaluations={"bias": 30})
    freshness_sweep()
    [finding] = plan_findings(evidence_kind="bias")
    assert finding.state == FindingState.STALE

    with django_capture_on_commit_callbacks(execute=True):
        evaluation = evaluation_record(
            actor=ml_engineer,
            version=version,
            kind="bias",
            suite="bias-suite",
            metric="gap",
            score=0.97,
            threshold=0.95,
            run_at=days_ago(0, hours=2),
        )

    finding = fresh(finding)
    assert (finding.close_reason, finding.evaluation) == (CloseReason.RERUN, evaluation)
    freshness_sweep()  # the next sweep agrees
    assert not plan_findings().filter(evidence_kind="bias").exists()


def test_the_review_falls_due_an_interval_after_the_plan_and_recording_it_closes_the_finding(
    version, product_owner, legal_reviewer
):
    made = timezone.now()
    plan = make_plan(product_owner, version.feature, evaluations={}, review_days=30, reviewer=legal_reviewer, now=made)
    freshness_sweep(now=made + timedelta(days=29))
    [finding] = plan_findings(evidence_kind="")
    assert finding.state == FindingState.DUE_SOON and finding.version is None

    freshness_sweep(now=made + timedelta(days=31))
    finding = fresh(finding)
    assert finding.state == FindingState.STALE
    assert "was due on" in finding.describe()
    assert Notification.objects.filter(user=legal_reviewer, subject__contains="Monitoring of").exists()

    reviewed = made + timedelta(days=32)
    review_record(
        actor=legal_reviewer, plan=plan, note="Queue sizes steady; two complaints, both unfounded.", now=reviewed
    )

    finding = fresh(finding)
    assert finding.close_reason == CloseReason.REVIEWED
    plan = MonitoringPlan.objects.get(pk=plan.pk)
    assert plan.review_due_at == reviewed + timedelta(days=30)
    freshness_sweep(now=reviewed + timedelta(days=10))
    assert not plan_findings(evidence_kind="").exists()
    event = AuditEvent.objects.get(action="monitoring_plan.reviewed")
    assert event.actor == legal_reviewer and event.feature_id == version.feature_id
    assert event.payload["note"].startswith("Queue sizes steady")


def test_nothing_is_due_while_the_feature_is_not_live_in_production(live, feature, product_owner):
    live.version(feature=feature, environments=("sandbox",))
    make_plan(product_owner, feature, evaluations={"bias": 30})

    freshness_sweep(now=timezone.now() + timedelta(days=400))

    assert not plan_findings().exists()


def test_leaving_production_closes_the_plan_findings(version, product_owner):
    make_plan(product_owner, version.feature, evaluations={"bias": 30})
    freshness_sweep(now=timezone.now() + timedelta(days=40))
    assert plan_findings().count() == 2  # bias missing, review overdue

    Deployment.objects.filter(version=version).delete()
    freshness_sweep(now=timezone.now() + timedelta(days=41))

    assert not plan_findings().exists()
    assert set(FreshnessFinding.objects.filter(kind="monitoring_plan").values_list("close_reason", flat=True)) == {
        CloseReason.NOT_LIVE
    }


def test_dropping_a_kind_from_the_plan_closes_its_finding_at_once(version, product_owner):
    make_plan(product_owner, version.feature, evaluations={"bias": 30, "safety": 30})
    freshness_sweep()
    [finding] = plan_findings(evidence_kind="bias")

    make_plan(product_owner, version.feature, evaluations={"safety": 30})

    finding = fresh(finding)
    assert finding.close_reason == CloseReason.PLAN_CHANGED
    closed = AuditEvent.objects.get(action="freshness_finding.closed", object_id=str(finding.pk))
    assert closed.payload["trigger"] == "monitoring_plan"


def test_plan_findings_never_block_promotions_but_escalate_after_the_grace_period(version, product_owner):
    make_plan(product_owner, version.feature, evaluations={"bias": 30})
    freshness_sweep()
    [finding] = plan_findings(evidence_kind="bias")

    assert not finding.blocks_promotions
    assert freshness_block(version.feature) is None

    assert findings_escalate(feature_id=version.feature_id) is None  # within the production gate's grace
    incident = findings_escalate(feature_id=version.feature_id, now=timezone.now() + timedelta(days=30))
    assert incident is not None and "monitoring overdue" in incident.title.lower()
    assert fresh(finding).incident_id == incident.pk


# --- Making and changing the plan ------------------------------------------------------------------


def test_making_and_changing_the_plan_is_audited_with_what_changed(version, product_owner):
    plan = make_plan(product_owner, version.feature)
    created = AuditEvent.objects.get(action="monitoring_plan.created")
    assert created.payload["new"]["evaluations"] == {"benchmark": 30}
    assert created.payload["new"]["reviewer_role"] == "legal"

    plan_save(
        actor=product_owner,
        feature=version.feature,
        reason="Quarterly is enough.",
        monitors=[DASH, ALERTS],
        review_interval_days=90,
        reviewer_role="legal",
        evaluations={"benchmark": 14},
    )

    updated = AuditEvent.objects.get(action="monitoring_plan.updated")
    assert updated.payload["reason"] == "Quarterly is enough."
    assert updated.payload["changes"]["review_interval_days"] == [30, 90]
    assert updated.payload["changes"]["evaluations"] == [{"benchmark": 30}, {"benchmark": 14}]
    assert MonitoringPlan.objects.get(pk=plan.pk).monitors == [DASH, ALERTS]


def test_only_the_team_and_governance_change_the_plan(
    version, product_owner, other_product_owner, governance_admin, auditor
):
    for stranger in (other_product_owner, auditor):
        with pytest.raises(PermissionDenied):
            make_plan(stranger, version.feature)
    assert not MonitoringPlan.objects.exists()

    make_plan(governance_admin, version.feature)
    assert MonitoringPlan.objects.filter(feature=version.feature).exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"monitors": ["https://elsewhere.example.test/d/x"]}, "monitors"),
        ({"monitors": []}, "monitors"),
        ({"review_interval_days": 0}, "review_interval_days"),
        ({"review_interval_days": 5000}, "review_interval_days"),
        ({"evaluations": {"benchmark": 0}}, "evaluations"),
        ({"evaluations": {"vibes": 30}}, "evaluations"),
        ({"reviewer_role": ""}, "reviewer"),
        ({"reviewer_role": "auditor"}, "reviewer_role"),
        ({"reason": " "}, "reason"),
    ],
)
def test_a_plan_that_cannot_be_kept_is_refused_with_the_reason(version, product_owner, change, field):
    values = {
        "monitors": [DASH],
        "review_interval_days": 30,
        "reviewer_role": "legal",
        "evaluations": {"benchmark": 30},
        "reason": "Plan.",
        **change,
    }
    with pytest.raises(ValidationError) as refused:
        plan_save(actor=product_owner, feature=version.feature, **values)

    assert field in refused.value.message_dict
    assert not MonitoringPlan.objects.exists()


def test_a_reviewer_who_may_not_see_a_restricted_feature_is_refused(live, product_owner, legal_reviewer):
    feature = live.feature(monitors=DASH, restricted=True)

    with pytest.raises(ValidationError) as refused:
        make_plan(product_owner, feature, reviewer=legal_reviewer)

    assert "may not see" in refused.value.message_dict["reviewer"][0]


def test_only_the_reviewer_records_the_review(version, product_owner, legal_reviewer, security_reviewer, auditor):
    by_role = make_plan(product_owner, version.feature, role="legal")
    assert can_record_review(legal_reviewer, by_role)
    for other in (product_owner, security_reviewer, auditor):
        assert not can_record_review(other, by_role)
        with pytest.raises(PermissionDenied):
            review_record(actor=other, plan=by_role, note="Looked.")

    person = UserFactory(username="rita-reviewer", roles=["legal"])
    by_person = make_plan(product_owner, version.feature, reviewer=person)
    assert can_record_review(person, by_person) and not can_record_review(legal_reviewer, by_person)
    with pytest.raises(ValidationError):
        review_record(actor=person, plan=by_person, note="  ")
