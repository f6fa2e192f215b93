"""What a gate policy change would do, before it is saved: the readiness it moves, the live deployments it
would give findings, the approved promotions it would block and the versions it would hold back.

Reads only, and judged by the rules of the apps that decide: readiness's checklist and freshness's
sweep run with the proposed requirements in place of the stored ones (``policies``), through what they
register in ``approvals.extensions`` (they sit above approvals), and a version's evidence is
``approvals.checks``'. Bounded
whatever the registry's size: each list is a count and its first ``limit`` entries. Only features the
user may see are looked at, counted or named.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from approvals import extensions
from approvals.checks import evidence_checks, latest_evaluations, unmet
from approvals.choices import Gate, RequestStatus
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy
from approvals.permissions import can_manage_gates
from approvals.services import gate_requirements_clean, requirements_snapshot
from registry.choices import Environment, EvaluationKind, RiskTier, Role, VersionStatus
from registry.models import Deployment, DeploymentEvent, FeatureVersion
from registry.selectors import features_visible_to


@dataclass
class Entry:
    label: str
    detail: str = ""
    url: str = ""


@dataclass
class Bounded:
    """How many, and the first few by name."""

    count: int = 0
    first: list[Entry] = field(default_factory=list)

    @property
    def more(self) -> int:
        return self.count - len(self.first)


def _bounded(entries: list[Entry], limit: int) -> Bounded:
    entries = sorted(entries, key=lambda entry: entry.label.lower())
    return Bounded(count=len(entries), first=entries[:limit])


@dataclass
class GatePreview:
    gate: str
    governs: list[str]  # "low, medium and high risk features going to production", per environment
    changes: list[str]  # what the requirements gain and lose, in words
    digest: str  # names the proposed requirements: a save confirms the change that was previewed
    readiness_lost: Bounded
    readiness_gained: Bounded
    findings_opened: Bounded  # live deployments that would get (or change) findings
    findings_closed: Bounded
    promotions_blocked: Bounded  # approved requests whose promotion would be refused
    versions_held: Bounded  # submitted versions not yet live that would need more evidence
    open_requests: int  # pending and approved requests of this gate: they keep their rules

    @property
    def label(self) -> str:
        return Gate(self.gate).label

    @property
    def quiet(self) -> bool:
        return not any(
            b.count
            for b in (
                self.readiness_lost,
                self.readiness_gained,
                self.findings_opened,
                self.findings_closed,
                self.promotions_blocked,
                self.versions_held,
            )
        )


def _governs(assignments) -> list[str]:
    """ "low, medium and high risk features going to production", one line per environment."""
    tiers: dict[str, list[str]] = defaultdict(list)
    for tier, environment in assignments:
        tiers[environment].append(tier)
    lines = []
    for environment in Environment.values:
        found = [RiskTier(tier).label.lower() for tier in RiskTier.values if tier in tiers.get(environment, [])]
        if found:
            named = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
            lines.append(f"{named} risk features going to {environment}")
    return lines


def proposal_digest(snapshot: dict) -> str:
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _describe(rule_kind: str, rule: dict) -> str:
    if rule_kind == "signoffs":
        return f"{rule['count']} × {Role(rule['role']).label} sign-off"
    if rule_kind == "evidence":
        parts = [f"{EvaluationKind(rule['kind']).label} evidence"]
        if rule.get("min_score") is not None:
            parts.append(f"≥ {rule['min_score']:g}")
        if rule.get("max_age_days") is not None:
            parts.append(f"≤ {rule['max_age_days']} days old")
        return " ".join(parts)
    from approvals.choices import ReadinessItem

    return f"{ReadinessItem(rule).label} (readiness)"


def requirements_differ(before: dict, after: dict) -> bool:
    """Whether the sign-offs, evidence or readiness items change (not only the gate's settings)."""
    return any(before.get(kind) != after.get(kind) for kind in ("signoffs", "evidence", "readiness"))


def requirement_changes(before: dict, after: dict) -> list[str]:
    """The requirements a change adds, removes or alters, in words."""
    lines = []
    for kind, key in (("signoffs", "role"), ("evidence", "kind"), ("readiness", None)):
        old = {(rule[key] if key else rule): rule for rule in before.get(kind, [])}
        new = {(rule[key] if key else rule): rule for rule in after.get(kind, [])}
        for name in sorted(new.keys() - old.keys()):
            lines.append(f"Adds {_describe(kind, new[name])}.")
        for name in sorted(old.keys() - new.keys()):
            lines.append(f"Removes {_describe(kind, old[name])}.")
        for name in sorted(old.keys() & new.keys()):
            if old[name] == new[name]:
                continue
            if kind == "signoffs":
                lines.append(
                    f"Asks for {new[name]['count']} {Role(name).label} sign-offs instead of {old[name]['count']}."
                )
            else:
                lines.append(f"Changes {_describe(kind, old[name])} to {_describe(kind, new[name])}.")
    if before.get("due_soon_days") != after.get("due_soon_days"):
        lines.append(
            f"Evidence is due soon {after['due_soon_days']} days before its maximum age "
            f"(was {before['due_soon_days']})."
        )
    return lines


def proposed_snapshot(policy: GatePolicy, *, requirements, due_soon_days: int | None = None) -> dict:
    """The policy as the change would make it (checked as saving checks it), with its due-soon setting."""
    snapshot = requirements_snapshot(policy, gate_requirements_clean(requirements))
    snapshot["due_soon_days"] = policy.due_soon_days if due_soon_days is None else due_soon_days
    return snapshot


def gate_policy_preview(
    *, user, policy: GatePolicy, requirements, due_soon_days: int | None = None, limit: int = 10, now=None
) -> GatePreview:
    """What saving these requirements on ``policy`` would change, as ``user`` may see it. Writes nothing.

    Raises ``PermissionDenied`` for anyone but governance and ``ValidationError`` for requirements that
    saving would refuse."""
    if not can_manage_gates(user):
        raise PermissionDenied("Only governance admins change gate policies.")
    now = now or timezone.now()
    policy = GatePolicy.objects.prefetch_related("requirements").get(pk=policy.pk)
    current = {**requirements_snapshot(policy), "due_soon_days": policy.due_soon_days}
    proposed = proposed_snapshot(policy, requirements=requirements, due_soon_days=due_soon_days)
    policies = {policy.gate: proposed}

    assignments = list(GateAssignment.objects.filter(gate=policy.gate).values_list("risk_tier", "environment"))
    tiers = {tier for tier, _environment in assignments}
    production_tiers = {tier for tier, environment in assignments if environment == Environment.PRODUCTION}
    governed = features_visible_to(user).filter(risk_tier__in=tiers)
    names = dict(governed.values_list("pk", "name"))
    slugs = dict(governed.values_list("pk", "slug"))

    def feature_url(feature_id: int) -> str:
        return reverse("registry:feature_detail", args=[slugs[feature_id]])

    # Readiness is about production: only features live there, under this gate, can move.
    readiness_lost, readiness_gained = [], []
    live_in_production = list(
        governed.filter(risk_tier__in=production_tiers)
        .filter(Exists(Deployment.objects.filter(feature=OuterRef("pk"), environment=Environment.PRODUCTION)))
        .order_by("pk")
        .values_list("pk", "slug")
    )
    if live_in_production:
        readiness = extensions.readiness_effect(live_in_production, now=now, policies=policies)
        readiness_lost = [Entry(names[pk], gaps, feature_url(pk)) for pk, gaps in readiness.lost]
        readiness_gained = [
            Entry(names[pk], "Every checklist item would be in place.", feature_url(pk)) for pk in readiness.gained
        ]

    # Findings: the sweep's own reconciliation of the governed live versions, with the proposed rules.
    live_versions = Deployment.objects.filter(feature__in=governed).values_list("version_id", flat=True)
    findings = extensions.findings_effect(
        feature_ids=list(names), version_ids=set(live_versions), now=now, policies=policies
    )
    numbers = dict(
        FeatureVersion.objects.filter(
            pk__in={version_id for _feature, version_id, _env in [*findings.opened, *findings.closed]}
        ).values_list("pk", "number")
    )

    def deployment_entries(found):
        return [
            Entry(
                f"{names[feature_id]} v{numbers.get(version_id, '?')} in {environment}",
                "; ".join(sorted(details)),
                feature_url(feature_id),
            )
            for (feature_id, version_id, environment), details in found.items()
        ]

    # Promotions: approved, unexpired, unused requests that freshness would refuse once the findings change.
    used = DeploymentEvent.objects.filter(approval_request_id=OuterRef("pk"))
    approved = (
        ApprovalRequest.objects.filter(
            version__feature__in=governed, status=RequestStatus.APPROVED, expires_at__gte=now
        )
        .exclude(Exists(used))
        .values_list("pk", "version__feature_id", "version_id", "version__number", "environment")
    )
    promotions_blocked = []
    for pk, feature_id, version_id, number, environment in approved:
        if findings.newly_blocked(feature_id, version_id, environment):
            promotions_blocked.append(
                Entry(
                    f"Request #{pk}: {names[feature_id]} v{number} → {environment}",
                    "Approved, but promotions would be blocked until fresh evidence is recorded.",
                    reverse("approvals:request_detail", args=[pk]),
                )
            )

    # Versions waiting to go live (submitted, not live anywhere, no open request) whose evidence meets the
    # gate today and would not under the change: a new request would stay pending.
    open_request = ApprovalRequest.objects.filter(
        version=OuterRef("pk"), status__in=[RequestStatus.PENDING, RequestStatus.APPROVED]
    )
    waiting = list(
        FeatureVersion.objects.filter(feature__in=governed, status=VersionStatus.SUBMITTED)
        .exclude(Exists(Deployment.objects.filter(version=OuterRef("pk"))))
        .exclude(Exists(open_request))
        .values_list("pk", "feature_id", "number")
    )
    newest = latest_evaluations([pk for pk, _feature_id, _number in waiting]) if waiting else {}
    versions_held = []
    for pk, feature_id, number in waiting:
        evaluations = newest.get(pk, {})
        if unmet(evidence_checks(current, evaluations, now=now)):
            continue
        short = unmet(evidence_checks(proposed, evaluations, now=now))
        if short:
            versions_held.append(
                Entry(
                    f"{names[feature_id]} v{number}",
                    "; ".join(f"{check.label}: {check.detail}" for check in short),
                    reverse("registry:version_detail", args=[slugs[feature_id], number]),
                )
            )

    still_usable = Q(status=RequestStatus.PENDING) | Q(
        Q(status=RequestStatus.APPROVED, expires_at__gte=now) & ~Exists(used)
    )
    open_requests = ApprovalRequest.objects.filter(
        still_usable, gate=policy.gate, version__feature__in=features_visible_to(user)
    ).count()
    return GatePreview(
        gate=policy.gate,
        governs=_governs(assignments),
        changes=requirement_changes(current, proposed),
        digest=proposal_digest(proposed),
        readiness_lost=_bounded(readiness_lost, limit),
        readiness_gained=_bounded(readiness_gained, limit),
        findings_opened=_bounded(deployment_entries(findings.opened), limit),
        findings_closed=_bounded(deployment_entries(findings.closed), limit),
        promotions_blocked=_bounded(promotions_blocked, limit),
        versions_held=_bounded(versions_held, limit),
        open_requests=open_requests,
    )
