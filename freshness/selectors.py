"""Reads of the freshness app, restricted to what the user may see."""

from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce

from freshness.choices import FindingKind, FindingState
from freshness.models import FreshnessFinding, MonitoringPlan, SweepRun
from registry.models import AuditEvent, Deployment
from registry.selectors import features_visible_to

STATE_ORDER = Case(
    *[When(state=state, then=Value(position)) for position, state in enumerate(FindingState.values)],
    output_field=IntegerField(),
)


def findings_visible_to(user):
    """Findings of the features the user may see: due soon first (soonest first), then stale, failing, missing."""
    return (
        FreshnessFinding.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature", "feature__team", "version", "version__feature", "evaluation")
        .annotate(state_rank=STATE_ORDER)
        .order_by(F("closed_at").desc(nulls_first=True), "state_rank", Coalesce("stale_at", "opened_at"), "id")
    )


def summary(findings) -> dict:
    """Open findings counted by team × state and by tier × state (two queries)."""
    states = FindingState.values

    def table(field, label_field):
        rows = {}
        for row in (
            findings.filter(closed_at__isnull=True)
            .order_by()
            .values(field, label_field)
            .annotate(**{s: Count("id", filter=Q(state=s)) for s in states}, total=Count("id"))
        ):
            rows[row[field]] = {"label": row[label_field], "counts": [row[s] for s in states], "total": row["total"]}
        return sorted(rows.items(), key=lambda item: (-item[1]["counts"][0] - item[1]["total"], str(item[1]["label"])))

    return {
        "states": [FindingState(s).label for s in states],
        "by_team": table("feature__team__slug", "feature__team__name"),
        "by_tier": table("feature__risk_tier", "feature__risk_tier"),
    }


def sweep_runs():
    return SweepRun.objects.select_related("requested_by").order_by("-started_at", "-id")


def last_run():
    return sweep_runs().first()


def finding_history(finding: FreshnessFinding) -> list[AuditEvent]:
    """The audit events of ``finding`` (opened, state changes, escalation, closing), oldest first."""
    return list(
        AuditEvent.objects.filter(object_type="freshnessfinding", object_id=str(finding.pk)).order_by("sequence")
    )


def finding_live_deployments(finding: FreshnessFinding) -> list[Deployment]:
    """Where the finding's version serves now in its environment, by region."""
    deployments = Deployment.objects.filter(feature_id=finding.feature_id, environment=finding.environment)
    if finding.version_id is not None:  # a monitoring review is the feature's: wherever it is live
        deployments = deployments.filter(version_id=finding.version_id)
    return list(deployments.select_related("region").order_by("region__code"))


def plan_of(feature) -> MonitoringPlan | None:
    """The feature's monitoring plan with what its pages show, or None. The caller found the feature among
    those the user may see."""
    return (
        MonitoringPlan.objects.select_related("feature", "reviewer", "created_by", "updated_by")
        .prefetch_related("evaluations")
        .filter(feature=feature)
        .first()
    )


def plan_findings(feature):
    """The feature's open monitoring plan findings, the review first."""
    return (
        FreshnessFinding.objects.filter(feature=feature, kind=FindingKind.MONITORING_PLAN, closed_at__isnull=True)
        .select_related("version", "evaluation", "feature")
        .order_by("evidence_kind", "version__number", "id")
    )


def plan_reviews(plan: MonitoringPlan):
    return plan.reviews.select_related("reviewed_by").order_by("-reviewed_at", "-id")
