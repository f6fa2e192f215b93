"""What freshness contributes to registry pages and rules (registered in FreshnessConfig.ready)."""

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from core.error_codes import EVIDENCE_STALE, Reason
from freshness.choices import FindingKind, FindingState
from freshness.models import FreshnessFinding, blocking_condition, blocks
from registry.choices import Environment
from registry.models import Deployment, Evaluation
from registry.selectors import features_visible_to


def _live_here():
    """The finding's version is still live in the finding's environment (a rollback away clears it at once)."""
    return Exists(Deployment.objects.filter(version_id=OuterRef("version_id"), environment=OuterRef("environment")))


def _gate_evidence():
    """Findings under a gate's evidence rules (the monitoring plan's have their own panel)."""
    return Q(kind=FindingKind.EVIDENCE)


def blocking_findings(feature_ids):
    """Open production findings of live versions that block promotions: stale, failing or missing
    evidence, and due-soon evidence whose stale date has passed since the last sweep."""
    return (
        FreshnessFinding.objects.filter(feature_id__in=feature_ids)
        .filter(blocking_condition(timezone.now()))
        .filter(_live_here())
    )


def blocks_promotion(blocking_version_ids, *, version_id=None, environment=None) -> bool:
    """The rule of ``freshness_block``, given the feature's versions with blocking findings: any blocks
    promotions in general and to sandbox; a promotion to production is blocked only by the version's
    own (another version replacing the bad one is the fix)."""
    if version_id is not None and environment == Environment.PRODUCTION:
        return version_id in blocking_version_ids
    return bool(blocking_version_ids)


def freshness_block(feature, *, version=None, environment=None) -> str | None:
    """Stale, failing or missing evidence of a live production version blocks new promotions of the
    feature, except the fix: promoting another version to production to replace it (its own gate
    approval has just checked that its evidence is fresh and passing)."""
    findings = blocking_findings([feature.pk]).select_related("version").order_by("state_changed_at", "id")
    version_id = version.pk if version is not None else None
    finding = next(
        (f for f in findings if blocks_promotion({f.version_id}, version_id=version_id, environment=environment)), None
    )
    if finding is None:
        return None
    kind = finding.get_evidence_kind_display().lower()
    number = finding.version.number
    state = "stale" if finding.state == FindingState.DUE_SOON else finding.get_state_display().lower()
    return Reason(
        f"Production {kind} evidence of v{number} is {state} ({finding.describe()}) Record fresh, passing "
        f"{kind} evidence for v{number}, or replace it in production with a version whose evidence passes.",
        EVIDENCE_STALE,
    )


def freshness_panel(request, feature, version=None) -> dict | None:
    findings = (
        FreshnessFinding.objects.filter(feature=feature, closed_at__isnull=True)
        .filter(_gate_evidence())
        .filter(_live_here())
        .select_related("version", "evaluation")
        .order_by("environment", "evidence_kind")
    )
    if version is not None:
        findings = findings.filter(version=version)
    rows = list(findings)
    evaluations = Evaluation.objects.filter(**({"version": version} if version else {"version__feature": feature}))
    return {
        "title": "Evidence freshness" + (f" of v{version.number}" if version else ""),
        "template": "freshness/partials/feature_panel.html",
        "context": {
            "findings": rows,
            "blocking": [f for f in rows if f.blocks_promotions],
            # No finding is not the same as fresh evidence: with nothing recorded, there is nothing to be fresh.
            "has_evidence": bool(rows) or evaluations.exists(),
            "feature": feature,
            "version": version,
            "dashboard_url": reverse("freshness:dashboard") + f"?feature={feature.slug}",
        },
    }


_TONE = {
    FindingState.DUE_SOON: "warn",
    FindingState.STALE: "bad",
    FindingState.FAILING: "bad",
    FindingState.MISSING: "bad",
}


def freshness_badges(kind: str, ids, user) -> dict[int, list[dict]]:
    """One badge per feature or version with open findings on live versions: the worst state and a count.
    Nothing about features the user may not see."""
    column = "feature_id" if kind == "feature" else "version_id"
    rows = (
        FreshnessFinding.objects.filter(**{f"{column}__in": list(ids)}, closed_at__isnull=True)
        .filter(_gate_evidence())
        .filter(feature__in=features_visible_to(user))
        .filter(_live_here())
        .values_list(column, "state", "environment", "stale_at")
    )
    now = timezone.now()
    worst: dict[int, list] = {}
    order = [FindingState.MISSING, FindingState.FAILING, FindingState.STALE, FindingState.DUE_SOON]
    for pk, state, environment, stale_at in rows:
        entry = worst.setdefault(pk, [state, 0, False])
        entry[1] += 1
        entry[2] |= blocks(environment=environment, state=state, stale_at=stale_at, now=now)
        if order.index(state) < order.index(entry[0]):
            entry[0] = state
    badges = {}
    for pk, (state, count, blocking) in worst.items():
        label = "Evidence " + FindingState(state).label.lower()
        if count > 1:
            label += f" (+{count - 1})"
        title = f"{count} open evidence finding{'s' if count != 1 else ''}"
        if blocking:
            title += "; new production promotions are blocked"
        badges[pk] = [
            {
                "label": label,
                "tone": _TONE[state],
                "title": title,
                "url": reverse("freshness:dashboard") + f"?{kind}={pk}",
            }
        ]
    return badges


def monitoring_plan_panel(request, feature, version=None) -> dict | None:
    """The feature page's "Monitoring plan" section: the plan, what is due, its open findings (not on
    version pages: the plan is the feature's)."""
    if version is not None:
        return None
    from freshness import monitoring, plans, selectors

    plan = selectors.plan_of(feature)
    user = request.user
    return {
        "title": "Monitoring plan",
        "template": "freshness/partials/plan_panel.html",
        "context": {
            "feature": feature,
            "plan": plan,
            "summary": monitoring.plan_summary(plan, now=timezone.now()) if plan else None,
            "findings": list(selectors.plan_findings(feature)) if plan else [],
            "url": reverse("freshness:plan_detail", args=[feature.slug]),
            "can_edit": plans.can_edit_plan(user, feature),
            "can_review": plans.can_record_review(user, plan),
        },
    }


def plan_links(ids, user) -> dict[str, str]:
    """``audit_object_links`` for monitoring plans: their page, for plans of features ``user`` may see."""
    from freshness.models import MonitoringPlan

    numbers = [int(pk) for pk in ids if str(pk).isdigit()]
    rows = MonitoringPlan.objects.filter(pk__in=numbers, feature__in=features_visible_to(user)).values_list(
        "pk", "feature__slug"
    )
    return {str(pk): reverse("freshness:plan_detail", args=[slug]) for pk, slug in rows}
