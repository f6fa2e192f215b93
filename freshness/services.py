"""Every write of the freshness app: the sweep, the recheck after new evidence, escalation.

Set-based: the sweep reads what is live, the gates' evidence rules and the newest evaluation of each
required kind in a fixed number of queries, decides every finding in Python, and writes the
differences in bulk. Its query count does not grow with the number of deployments.

Lock order: the sweep lock (one row: findings have one writer at a time), then what the write needs
(an incident), the audit chain last. Notices are created in the same transaction as the state change
they report, under a key naming the finding's revision, so a retried or concurrent sweep can never
tell anyone twice.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from approvals.checks import evidence_state, stale_from
from approvals.choices import RequirementKind
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from core.bulk import bulk_update_rows
from freshness import monitoring
from freshness.choices import BLOCKING_STATES, CloseReason, FindingKind, FindingState, SweepStatus, SweepTrigger
from freshness.models import FreshnessFinding, MonitoringPlan, SweepLock, SweepRun
from registry.choices import Environment
from registry.models import AIFeature, Deployment, Evaluation, FeatureVersion, Notification
from registry.permissions import is_governance
from registry.services import audit_record_many

logger = logging.getLogger(__name__)


class SweepNotQueued(Exception):
    """The broker could not take the sweep asked for: nothing was queued, and the person asking is told."""


NOTICE_KEY_PREFIX = "freshness:"
EMAIL_CHUNK = 100  # notices emailed per task


# --- Reading what should be -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    gate: str
    kind: str
    min_score: float | None
    max_age_days: int | None
    due_soon_days: int


@dataclass(frozen=True)
class Assessment:
    feature_id: int
    version_id: int
    environment: str
    rule: Rule
    state: str  # "ok" or a FindingState
    evaluation_id: int | None
    stale_at: datetime | None


def _rules_by_tier_and_environment(proposed: dict[str, dict] | None = None) -> dict[tuple[str, str], list[Rule]]:
    """Each (risk tier, environment)'s gate and its evidence rules, in two queries.

    ``proposed`` (gate -> requirements snapshot with ``due_soon_days``) replaces those gates' stored
    evidence rules: what a gate change would do (``approvals.impact``)."""
    policies = {}
    for policy in GatePolicy.objects.all():
        policies[policy.gate] = (policy, [])
    for requirement in GateRequirement.objects.filter(kind=RequirementKind.EVIDENCE).select_related("policy"):
        policy = requirement.policy
        policies.setdefault(policy.gate, (policy, []))[1].append(
            Rule(
                gate=policy.gate,
                kind=requirement.evidence_kind,
                min_score=requirement.min_score,
                max_age_days=requirement.max_age_days,
                due_soon_days=policy.due_soon_days,
            )
        )
    for gate, snapshot in (proposed or {}).items():
        policies[gate] = (
            None,
            [
                Rule(
                    gate=gate,
                    kind=rule["kind"],
                    min_score=rule.get("min_score"),
                    max_age_days=rule.get("max_age_days"),
                    due_soon_days=snapshot["due_soon_days"],
                )
                for rule in snapshot["evidence"]
            ],
        )
    rules = {}
    for tier, environment, gate in GateAssignment.objects.values_list("risk_tier", "environment", "gate"):
        if gate in policies:
            rules[(tier, environment)] = policies[gate][1]
    return rules


def _newest_evaluations(kinds: set[str], live_versions) -> dict[tuple[int, str], Evaluation]:
    """The newest evaluation of each kind for every live version: one query per kind, whatever the count
    of versions (each a top-1 lookup on the (version, kind, run_at) index)."""
    newest = {}
    for kind in sorted(kinds):
        top = Evaluation.objects.filter(version=OuterRef("pk"), kind=kind).order_by("-run_at", "-id").values("id")[:1]
        ids = FeatureVersion.objects.filter(pk__in=live_versions).annotate(newest=Subquery(top)).values("newest")
        for evaluation in Evaluation.objects.filter(pk__in=ids).only(
            "id", "version_id", "kind", "score", "threshold", "passed", "run_at"
        ):
            newest[(evaluation.version_id, kind)] = evaluation
    return newest


def _assess(rule: Rule, evaluation: Evaluation | None, *, feature_id, version_id, environment, now) -> Assessment:
    if evaluation is None:
        state, stale_at = FindingState.MISSING, None
    else:
        stale_at = stale_from(evaluation.run_at, rule.max_age_days)
        verdict = evidence_state(
            passed=evaluation.passed,
            score=evaluation.score,
            run_at=evaluation.run_at,
            min_score=rule.min_score,
            max_age_days=rule.max_age_days,
            now=now,
        )
        if verdict in ("failing", "below_minimum"):
            state = FindingState.FAILING
        elif verdict == "stale":
            state = FindingState.STALE
        elif stale_at is not None and stale_at - now <= timedelta(days=rule.due_soon_days):
            state = FindingState.DUE_SOON
        else:
            state = "ok"
    return Assessment(
        feature_id=feature_id,
        version_id=version_id,
        environment=environment,
        rule=rule,
        state=state,
        evaluation_id=evaluation.pk if evaluation else None,
        stale_at=stale_at,
    )


def assess_live(
    *, version_ids=None, now=None, policies=None
) -> tuple[dict[tuple[int, str, str], Assessment], int, int]:
    """What every live version's evidence is now, keyed (version, environment, kind).

    Returns the assessments, the number of deployments and the number of (version, environment)
    pairs checked. Pure reads, a fixed number of queries. ``policies``: proposed gate requirements
    (``_rules_by_tier_and_environment``).
    """
    now = now or timezone.now()
    deployments = Deployment.objects.all()
    if version_ids is not None:
        deployments = deployments.filter(version_id__in=list(version_ids))
    live = list(
        deployments.values("version_id", "environment", "feature_id", "feature__risk_tier")
        .annotate(regions=Count("id"))
        .order_by()
    )
    rules = _rules_by_tier_and_environment(policies)
    kinds = {rule.kind for group in live for rule in rules.get((group["feature__risk_tier"], group["environment"]), [])}
    newest = _newest_evaluations(kinds, deployments.values("version_id")) if live and kinds else {}
    assessments = {}
    for group in live:
        for rule in rules.get((group["feature__risk_tier"], group["environment"]), []):
            key = (group["version_id"], group["environment"], rule.kind)
            assessments[key] = _assess(
                rule,
                newest.get((group["version_id"], rule.kind)),
                feature_id=group["feature_id"],
                version_id=group["version_id"],
                environment=group["environment"],
                now=now,
            )
    return assessments, sum(group["regions"] for group in live), len(live)


# --- Writing the differences ------------------------------------------------------------------


@dataclass
class Outcome:
    opened: list[FreshnessFinding] = field(default_factory=list)
    changed: list[FreshnessFinding] = field(default_factory=list)  # state changed: owners are told
    refreshed: list[FreshnessFinding] = field(default_factory=list)  # same state, newer evidence or rule
    closed: list[FreshnessFinding] = field(default_factory=list)
    previous_state: dict[int, str] = field(default_factory=dict)
    notices: list[int] = field(default_factory=list)
    deployments_checked: int = 0
    versions_checked: int = 0

    @property
    def told(self) -> list[FreshnessFinding]:
        return self.opened + self.changed + self.closed


def _lock_sweep() -> None:
    if not SweepLock.objects.select_for_update().filter(pk=1).exists():
        SweepLock.objects.get_or_create(pk=1)
        SweepLock.objects.select_for_update().get(pk=1)


def _blocking_since(finding: FreshnessFinding, state: str, now) -> datetime | None:
    if finding.environment != Environment.PRODUCTION or state not in BLOCKING_STATES:
        return None
    return finding.blocking_since or now


def _apply(assessment: Assessment, finding: FreshnessFinding) -> None:
    rule = assessment.rule
    finding.gate = rule.gate
    finding.evaluation_id = assessment.evaluation_id
    finding.min_score = rule.min_score
    finding.max_age_days = rule.max_age_days
    finding.stale_at = assessment.stale_at


def _plan(*, version_ids=None, now, policies=None) -> Outcome:
    """Which findings to open, update and close so they say what ``assess_live`` says; writes nothing
    (the unsaved findings are changed in memory). ``policies``: proposed gate requirements."""
    assessments, deployments_checked, versions_checked = assess_live(
        version_ids=version_ids, now=now, policies=policies
    )
    open_findings = FreshnessFinding.objects.filter(closed_at__isnull=True, kind=FindingKind.EVIDENCE)
    if version_ids is not None:
        open_findings = open_findings.filter(version_id__in=list(version_ids))
    existing = {(f.version_id, f.environment, f.evidence_kind): f for f in open_findings}
    outcome = Outcome(deployments_checked=deployments_checked, versions_checked=versions_checked)
    live_pairs = {(key[0], key[1]) for key in assessments}
    if existing:  # versions with open findings that are live where no rule applies any more
        live_pairs |= set(
            Deployment.objects.filter(version_id__in=open_findings.values("version_id"))
            .values_list("version_id", "environment")
            .distinct()
            .order_by()
        )

    for key, assessment in assessments.items():
        finding = existing.pop(key, None)
        if assessment.state == "ok":
            if finding is not None:
                # The same evidence can only turn acceptable because the rule changed.
                same_evidence = finding.evaluation_id == assessment.evaluation_id
                _apply(assessment, finding)
                _close(finding, CloseReason.RULE_RELAXED if same_evidence else CloseReason.FRESH, now, outcome)
            continue
        if finding is None:
            finding = FreshnessFinding(
                feature_id=assessment.feature_id,
                version_id=assessment.version_id,
                environment=assessment.environment,
                evidence_kind=assessment.rule.kind,
                state=assessment.state,
                opened_at=now,
                state_changed_at=now,
                revision=1,
            )
            _apply(assessment, finding)
            finding.blocking_since = _blocking_since(finding, assessment.state, now)
            outcome.opened.append(finding)
            continue
        before = (finding.evaluation_id, finding.stale_at, finding.min_score, finding.max_age_days, finding.gate)
        _apply(assessment, finding)
        if finding.state != assessment.state:
            outcome.previous_state[finding.pk] = finding.state
            finding.state = assessment.state
            finding.revision += 1
            finding.state_changed_at = now
            finding.blocking_since = _blocking_since(finding, assessment.state, now)
            outcome.changed.append(finding)
        elif before != (finding.evaluation_id, finding.stale_at, finding.min_score, finding.max_age_days, finding.gate):
            outcome.refreshed.append(finding)

    for (version_id, environment, _kind), finding in existing.items():
        reason = CloseReason.RULE_REMOVED if (version_id, environment) in live_pairs else CloseReason.NOT_LIVE
        _close(finding, reason, now, outcome)
    return outcome


def _overdue_since(finding: FreshnessFinding, state: str, now) -> datetime | None:
    """Monitoring plan findings: since when the promise has been broken (the escalation's grace counts from here)."""
    if state not in (FindingState.STALE, FindingState.MISSING):
        return None
    return finding.blocking_since or now


def _apply_target(target: monitoring.PlanTarget, finding: FreshnessFinding) -> None:
    finding.gate = target.gate
    finding.evaluation_id = target.evaluation_id
    finding.min_score = None
    finding.max_age_days = target.interval_days
    finding.stale_at = target.due_at


def _plan_monitoring(*, feature_ids=None, now, outcome: Outcome) -> None:
    """Add to ``outcome`` which monitoring plan findings to open, update and close so they say what the
    features' plans say (``freshness.monitoring``). ``feature_ids``: only these features' plans."""
    assessment = monitoring.assess_plans(feature_ids=feature_ids, now=now)
    open_findings = FreshnessFinding.objects.filter(closed_at__isnull=True, kind=FindingKind.MONITORING_PLAN)
    if feature_ids is not None:
        open_findings = open_findings.filter(feature_id__in=list(feature_ids))
    existing = {(f.feature_id, f.version_id, f.evidence_kind): f for f in open_findings}
    for key, target in assessment.targets.items():
        finding = existing.pop(key, None)
        if target.state == "ok":
            if finding is not None:
                if target.version_id is None:
                    reason = CloseReason.REVIEWED if target.due_at != finding.stale_at else CloseReason.PLAN_CHANGED
                else:
                    same = finding.evaluation_id == target.evaluation_id
                    reason = CloseReason.PLAN_CHANGED if same else CloseReason.RERUN
                _apply_target(target, finding)
                _close(finding, reason, now, outcome)
            continue
        if finding is None:
            finding = FreshnessFinding(
                feature_id=target.feature_id,
                kind=FindingKind.MONITORING_PLAN,
                version_id=target.version_id,
                environment=Environment.PRODUCTION,
                evidence_kind=target.kind,
                state=target.state,
                opened_at=now,
                state_changed_at=now,
                revision=1,
            )
            _apply_target(target, finding)
            finding.blocking_since = _overdue_since(finding, target.state, now)
            outcome.opened.append(finding)
            continue
        before = (finding.evaluation_id, finding.stale_at, finding.max_age_days, finding.gate)
        _apply_target(target, finding)
        if finding.state != target.state:
            outcome.previous_state[finding.pk] = finding.state
            finding.state = target.state
            finding.revision += 1
            finding.state_changed_at = now
            finding.blocking_since = _overdue_since(finding, target.state, now)
            outcome.changed.append(finding)
        elif before != (finding.evaluation_id, finding.stale_at, finding.max_age_days, finding.gate):
            outcome.refreshed.append(finding)
    for (feature_id, version_id, _kind), finding in existing.items():
        live = assessment.live_versions.get(feature_id, set())
        if feature_id not in assessment.planned:
            reason = CloseReason.PLAN_CHANGED  # no plan any more
        elif version_id is None:
            reason = CloseReason.NOT_LIVE  # the review: the feature left production
        else:
            reason = CloseReason.PLAN_CHANGED if version_id in live else CloseReason.NOT_LIVE
        _close(finding, reason, now, outcome)


def _reconcile(*, version_ids=None, now, plan_features=None, evidence: bool = True) -> Outcome:
    """Open, update and close findings so they say what ``assess_live`` and the monitoring plans say. Inside
    the sweep lock. ``version_ids``: only these versions' gate evidence and their features' plans;
    ``plan_features``: these features' plans too; ``evidence=False``: the plans only."""
    outcome = _plan(version_ids=version_ids, now=now) if evidence else Outcome()
    if version_ids is None and plan_features is None:
        _plan_monitoring(now=now, outcome=outcome)
    else:
        features = set(plan_features or ()) | (monitoring.features_of_versions(version_ids) if version_ids else set())
        if features:
            _plan_monitoring(feature_ids=features, now=now, outcome=outcome)
    FreshnessFinding.objects.bulk_create(outcome.opened)
    updated = outcome.changed + outcome.refreshed + outcome.closed
    if updated:
        bulk_update_rows(
            FreshnessFinding,
            updated,
            [
                "state",
                "revision",
                "state_changed_at",
                "blocking_since",
                "gate",
                "evaluation",
                "min_score",
                "max_age_days",
                "stale_at",
                "closed_at",
                "close_reason",
            ],
        )
    outcome.notices = _tell_owners(outcome, now)
    return outcome


def _close(finding: FreshnessFinding, reason: str, now, outcome: Outcome) -> None:
    outcome.previous_state[finding.pk] = finding.state
    finding.closed_at = now
    finding.close_reason = reason
    finding.revision += 1
    finding.state_changed_at = now
    finding.blocking_since = None
    outcome.closed.append(finding)


def _line(finding: FreshnessFinding, outcome: Outcome, versions: dict[int, int]) -> str:
    kind = finding.subject if finding.is_monitoring else finding.get_evidence_kind_display()
    where = (
        f"v{versions.get(finding.version_id, '?')} in {finding.environment}"
        if finding.version_id
        else "the feature's monitoring plan"
    )
    if finding.closed_at:
        return f"- {kind} ({where}): resolved ({finding.get_close_reason_display().lower()})."
    was = outcome.previous_state.get(finding.pk)
    change = f"{FindingState(was).label.lower()} → " if was else ""
    due = (
        f", stale from {finding.stale_at:%-d %b %Y}"
        if finding.state == FindingState.DUE_SOON and finding.stale_at
        else ""
    )
    block = " Blocks new promotions until fresh evidence is recorded." if finding.blocks_promotions else ""
    return f"- {kind} ({where}): {change}{finding.get_state_display().lower()}{due}.{block}"


def _tell_owners(outcome: Outcome, now) -> list[int]:
    """One notice per feature and person for this change set, keyed on the findings' revisions.

    Recipients: the feature's accountable and incident owners and its team's members. A fixed
    number of queries whatever the number of features.
    """
    told = outcome.told
    if not told:
        return []
    by_feature: dict[int, list[FreshnessFinding]] = defaultdict(list)
    for finding in told:
        by_feature[finding.feature_id].append(finding)
    features = {
        row["id"]: row
        for row in AIFeature.objects.filter(pk__in=list(by_feature)).values(
            "id", "name", "slug", "accountable_owner_id", "incident_owner_id", "team__group_id"
        )
    }
    versions = dict(FeatureVersion.objects.filter(pk__in={f.version_id for f in told}).values_list("id", "number"))
    User = get_user_model()
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in User.groups.through.objects.filter(
        group_id__in={row["team__group_id"] for row in features.values()}
    ).values_list("group_id", "user_id"):
        members[group_id].add(user_id)
    wanted = {
        feature_id: {row["accountable_owner_id"], row["incident_owner_id"], *members[row["team__group_id"]]}
        for feature_id, row in features.items()
    }
    # A monitoring plan's named reviewer hears of its findings too (a reviewer named by role is told by the page).
    plan_features = {f.feature_id for f in told if f.is_monitoring}
    if plan_features:
        for feature_id, reviewer_id in MonitoringPlan.objects.filter(
            feature_id__in=plan_features, reviewer__isnull=False
        ).values_list("feature_id", "reviewer_id"):
            wanted[feature_id].add(reviewer_id)
    active = set(User.objects.filter(pk__in=set().union(*wanted.values()), is_active=True).values_list("pk", flat=True))
    rows, keys = [], []
    for feature_id, findings in by_feature.items():
        row = features[feature_id]
        findings.sort(key=lambda f: (f.closed_at is not None, f.kind, f.evidence_kind, f.environment))
        signature = ",".join(sorted(f"{f.pk}.{f.revision}" for f in findings))
        key = NOTICE_KEY_PREFIX + hashlib.sha256(signature.encode()).hexdigest()[:40]
        keys.append(key)
        blocking = any(f.blocks_promotions for f in findings)
        open_count = sum(1 for f in findings if not f.closed_at)
        if all(f.is_monitoring for f in findings):
            if open_count:
                subject = f"Monitoring of {row['name']} needs attention under its plan"
            else:
                subject = f"Monitoring of {row['name']} is up to date again"
        elif open_count:
            subject = f"Evidence {'blocks promotions of' if blocking else 'needs attention on'} {row['name']}"
        else:
            subject = f"Evidence on {row['name']} is fresh again"
        body = "\n".join(_line(f, outcome, versions) for f in findings)
        url = reverse("freshness:dashboard") + f"?feature={row['slug']}&status=all"
        for user_id in sorted(wanted[feature_id] & active):
            rows.append(Notification(user_id=user_id, subject=subject[:200], body=body, url=url, key=key))
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(Notification.objects.filter(key__in=keys).values_list("pk", flat=True))
    return ids


def _email_on_commit(ids: list[int], now) -> None:
    """Email these notices, and any notice committed but never emailed.

    Stragglers are notices (of any kind: the sweep is the retry path of every notice's email) over 15
    minutes old and under two days still unsent: a run killed between its commit and queueing the email,
    or a change whose email could not be queued because the broker was down. The email task claims each notice, so
    sending one twice is impossible; the age window keeps a down mail server's backlog from being
    queued again every hour for ever.
    """
    pending = (
        set(ids)
        | set(
            Notification.objects.filter(
                emailed_at__isnull=True,
                email_failed_at__isnull=True,  # given up (and reported): never queued again
                created_at__gte=now - timedelta(days=2),
                created_at__lt=now - timedelta(minutes=15),
            )
            .exclude(user__email="")
            .values_list("pk", flat=True)[:5000]
        )
    )
    if not pending:
        return

    def send() -> None:
        from core.queueing import enqueue
        from registry.tasks import send_notification_emails

        # In pieces, each its own task: a worker killed mid-way leaves one short message to redeliver, not
        # thousands of emails to start over (each notice is claimed, so none is sent twice).
        ordered = sorted(pending)
        for start in range(0, len(ordered), EMAIL_CHUNK):
            chunk = ordered[start : start + EMAIL_CHUNK]
            enqueue(send_notification_emails, (chunk,), what=f"the email of {len(chunk)} notices (the next sweep)")

    transaction.on_commit(send, robust=True)  # unsent notices are retried by the next run


def _audit_entries(outcome: Outcome, *, actor=None, **extra) -> list[dict]:
    entries = []
    for action, findings in (
        ("freshness_finding.opened", outcome.opened),
        ("freshness_finding.changed", outcome.changed),
        ("freshness_finding.refreshed", outcome.refreshed),
        ("freshness_finding.closed", outcome.closed),
    ):
        for finding in findings:
            payload = {
                "version_id": finding.version_id,
                "environment": finding.environment,
                "gate": finding.gate,
                "evidence_kind": finding.evidence_kind,
                "evaluation_id": finding.evaluation_id,
                "revision": finding.revision,
                **({"kind": finding.kind} if finding.is_monitoring else {}),
                **extra,
            }
            if finding.closed_at:
                payload["state"] = [outcome.previous_state.get(finding.pk), None]
                payload["close_reason"] = finding.close_reason
            elif finding.pk in outcome.previous_state:
                payload["state"] = [outcome.previous_state[finding.pk], finding.state]
            else:
                payload["state"] = finding.state
            entries.append(
                {
                    "actor": actor,
                    "action": action,
                    "object_type": "freshnessfinding",
                    "object_id": finding.pk,
                    "object_repr": f"{finding.subject}, {finding.environment}",
                    "feature": AIFeature(pk=finding.feature_id),
                    "payload": payload,
                }
            )
    return entries


def grace_days_by_gate() -> dict[str, int]:
    """How long each gate lets production evidence block before it escalates."""
    return dict(GatePolicy.objects.values_list("gate", "escalation_grace_days"))


def _due_escalations(now) -> list[int]:
    """Features with a production finding blocking longer than its gate's grace period, not yet escalated."""
    grace = grace_days_by_gate()
    candidates = FreshnessFinding.objects.filter(
        closed_at__isnull=True,
        incident_id__isnull=True,
        blocking_since__isnull=False,
        blocking_since__lte=now - timedelta(days=min(grace.values(), default=0)),
    ).values_list("feature_id", "gate", "blocking_since")
    return sorted(
        {feature_id for feature_id, gate, since in candidates if since <= now - timedelta(days=grace.get(gate, 0))}
    )


# --- The operations ---------------------------------------------------------------------------


def freshness_sweep(
    *, trigger: str = SweepTrigger.SCHEDULE, requested_by=None, task_id: str = "", now=None
) -> SweepRun:
    """Check every live deployment's evidence against its gate; record the run.

    Run by Celery beat (and on demand). Safe to run twice at once or again after a crash: the sweep
    lock serialises runs and a run that finds nothing changed tells nobody anything.
    """
    started = timezone.now()
    try:
        with transaction.atomic():
            _lock_sweep()
            now = now or timezone.now()  # after the lock: never judge with a clock older than the last writer's
            outcome = _reconcile(now=now)
            escalate = _due_escalations(now)
            open_after = FreshnessFinding.objects.filter(closed_at__isnull=True).count()
            run = SweepRun.objects.create(
                trigger=trigger,
                requested_by=requested_by,
                task_id=task_id or "",
                started_at=started,
                finished_at=timezone.now(),
                status=SweepStatus.SUCCEEDED,
                deployments_checked=outcome.deployments_checked,
                versions_checked=outcome.versions_checked,
                findings_opened=len(outcome.opened),
                findings_updated=len(outcome.changed) + len(outcome.refreshed),
                findings_closed=len(outcome.closed),
                open_findings=open_after,
                notifications=len(outcome.notices),
                escalations=len(escalate),
            )
            _email_on_commit(outcome.notices, now)
            entries = _audit_entries(outcome, sweep_run=run.pk)
            entries.append(
                {
                    "actor": requested_by,
                    "action": "freshness.sweep_completed",
                    "target": run,
                    "payload": {
                        "trigger": trigger,
                        "deployments_checked": run.deployments_checked,
                        "opened": run.findings_opened,
                        "updated": run.findings_updated,
                        "closed": run.findings_closed,
                        "open": open_after,
                        "escalations": len(escalate),
                    },
                }
            )
            audit_record_many(entries)
            if escalate:
                # robust: the sweep has committed; a broker hiccup must not make it look failed.
                transaction.on_commit(lambda: _queue_escalations(escalate, now), robust=True)
    except Exception as error:
        SweepRun.objects.create(
            trigger=trigger,
            requested_by=requested_by,
            task_id=task_id or "",
            started_at=started,
            finished_at=timezone.now(),
            status=SweepStatus.FAILED,
            error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise
    return run


def findings_recheck(*, version_ids, actor=None, trigger: str = "evaluation", now=None) -> Outcome:
    """Judge these versions' evidence again now (after an evaluation is recorded): the same rules as
    the sweep, so the next sweep agrees. Opens, updates or closes their findings and tells owners.
    Also after promotions and rollbacks (``trigger="deployment"``). The audit names ``actor``, whose
    evidence or deployment caused the change."""
    with transaction.atomic():
        _lock_sweep()
        now = now or timezone.now()
        outcome = _reconcile(version_ids=list(version_ids), now=now)
        if outcome.told or outcome.refreshed:
            _email_on_commit(outcome.notices, now)
            audit_record_many(_audit_entries(outcome, actor=actor, trigger=trigger))
    return outcome


def lock_findings() -> None:
    """Take the sweep lock in the caller's transaction: findings have one writer at a time. Take it first."""
    _lock_sweep()


def plan_findings_reconcile(*, feature_ids, actor=None, trigger: str, now) -> list[dict]:
    """Judge these features' monitoring plans now, inside the caller's transaction and after
    ``lock_findings``: opens, updates or closes their plan findings and tells owners. Returns the audit
    entries to record (with the caller's own, so the chain lock stays the last lock taken)."""
    outcome = _reconcile(plan_features=list(feature_ids), now=now, evidence=False)
    if not (outcome.told or outcome.refreshed):
        return []
    _email_on_commit(outcome.notices, now)
    return _audit_entries(outcome, actor=actor, trigger=trigger)


def findings_preview(*, version_ids, policies: dict[str, dict], now=None) -> Outcome:
    """Which findings of these versions a gate change would open, change or close (``policies``: gate ->
    proposed requirements snapshot with ``due_soon_days``), by the sweep's own rules. Writes nothing,
    takes no lock, tells nobody. The findings in the outcome are unsaved (changed in memory)."""
    return _plan(version_ids=list(version_ids), now=now or timezone.now(), policies=policies)


RECHECK_CHUNK = 1000  # versions judged per transaction after a gate change: the sweep lock is held briefly


def live_versions_under(*, gates=(), risk_tiers=()) -> list[int]:
    """The live versions of the features that ``gates`` (through their assignments) or ``risk_tiers`` govern."""
    tiers = set(risk_tiers) | set(
        GateAssignment.objects.filter(gate__in=list(gates)).values_list("risk_tier", flat=True)
    )
    live = Deployment.objects.filter(feature__risk_tier__in=tiers).values_list("version_id", flat=True)
    return sorted(set(live.distinct().order_by()))


def findings_recheck_gates(*, gates=(), risk_tiers=(), actor=None, now=None) -> int:
    """After a gate policy or assignment change commits: judge the live versions it governs by the new
    rules at once (the sweep's rules, so the next sweep agrees), in chunks of ``RECHECK_CHUNK`` versions
    each in its own transaction. Returns how many findings were opened, changed or closed."""
    version_ids = live_versions_under(gates=gates, risk_tiers=risk_tiers)
    told = 0
    for start in range(0, len(version_ids), RECHECK_CHUNK):
        outcome = findings_recheck(
            version_ids=version_ids[start : start + RECHECK_CHUNK], actor=actor, trigger="gate_policy", now=now
        )
        told += len(outcome.told)
    return told


def _queue_escalations(feature_ids: list[int], now) -> None:
    from freshness.tasks import escalate_findings

    # The sweep's own time: a sweep judged "as of" a moment escalates as of that moment too.
    escalate_findings.delay(feature_ids, now=now.isoformat())


def findings_escalate(*, feature_id: int, now=None):
    """Open (or join) a governance incident for a feature whose production evidence has been
    blocking past the grace period. Idempotent: a finding is escalated once."""
    from incidents.choices import ACTIVE_STATUSES, IncidentSource
    from incidents.models import Incident
    from incidents.services import incident_open_governance

    now = now or timezone.now()
    grace = grace_days_by_gate()
    with transaction.atomic():
        _lock_sweep()
        due = [
            finding
            for finding in FreshnessFinding.objects.select_for_update(of=("self",))
            .filter(
                feature_id=feature_id, closed_at__isnull=True, incident_id__isnull=True, blocking_since__isnull=False
            )
            .select_related("version", "feature")
            .order_by("blocking_since", "id")
            if finding.blocking_since <= now - timedelta(days=grace.get(finding.gate, 0))
        ]
        if not due:
            return None
        feature = due[0].feature
        incident = (
            Incident.objects.filter(feature=feature, source=IncidentSource.FRESHNESS, status__in=ACTIVE_STATUSES)
            .order_by("impact_start", "id")
            .first()
        )
        if incident is None:
            first = due[0]
            live_there = Deployment.objects.filter(feature=feature, environment=first.environment)
            if first.version_id is not None:
                live_there = live_there.filter(version=first.version)
            region = live_there.select_related("region").order_by("region__code").first()
            if region is None:  # no longer live: the next sweep closes the finding
                return None
            lines = "\n".join(
                f"- {f'v{f.version.number}' if f.version_id else 'Monitoring plan'}: {f.describe()}" for f in due
            )
            if all(f.is_monitoring for f in due):
                title = f"Post-market monitoring overdue for {feature.name}"
                description = (
                    "The evidence freshness sweep found the feature's monitoring plan not kept past the gate's "
                    f"grace period: evaluations not run again, or the review not recorded, in time.\n{lines}"
                )
            else:
                title = f"Production evidence out of date for {feature.name}"
                description = (
                    "The evidence freshness sweep found production evidence stale, failing or missing past the "
                    f"gate's grace period. New promotions are blocked until fresh evidence is recorded.\n{lines}"
                )
            incident = incident_open_governance(
                feature=feature,
                environment=first.environment,
                region=region.region,
                impact_start=first.blocking_since,
                title=title,
                description=description,
            )
        FreshnessFinding.objects.filter(pk__in=[f.pk for f in due]).update(incident_id=incident.pk)
        audit_record_many(
            [
                {
                    "actor": None,
                    "action": "freshness_finding.escalated",
                    "object_type": "freshnessfinding",
                    "object_id": f.pk,
                    "object_repr": str(f),
                    "feature": feature,
                    "payload": {"incident": incident.reference, "blocking_since": f.blocking_since, "state": f.state},
                }
                for f in due
            ]
        )
    return incident


def sweep_request(*, actor) -> str:
    """A governance admin asks for a sweep now. Returns the task id (the run appears when it finishes)."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins run the freshness sweep on demand.")
    from core.queueing import enqueue
    from freshness.tasks import evidence_freshness_sweep

    # One attempt, never a wait on a down broker (eager: the sweep runs here, and its failure is recorded).
    task_id = str(uuid.uuid4())
    if not enqueue(
        evidence_freshness_sweep,
        (),
        {"trigger": SweepTrigger.MANUAL, "requested_by_id": actor.pk},
        task_id=task_id,
        what=f"the sweep {actor} asked for",
    ):
        raise SweepNotQueued(
            "The task queue is unreachable, so the sweep was not queued. Try again in a few minutes; the "
            "scheduled sweep runs as soon as the queue is back."
        )
    return task_id
