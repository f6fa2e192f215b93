"""Every write of the approvals app: gate policies, requests, sign-offs, promotion.

Lock order: the approval request row, then (through registry's deployment services) the feature row,
then its deployment rows. Nothing here locks a feature before a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.checks import all_checks, latest_evaluations, unmet
from approvals.choices import (
    REQUEST_TRANSITIONS,
    Decision,
    Gate,
    ReadinessItem,
    RequestStatus,
    RequirementKind,
    SignOffStatus,
)
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, GateRequirement, SignOff
from approvals.permissions import can_manage_gates, can_promote, can_request_gate, signoff_refusal
from approvals.selectors import eligible_signers, roles_in_words, unstaffed_roles
from core.exceptions import Conflict, Refused
from registry.choices import Environment, EvaluationKind, RiskTier, Role, VersionStatus
from registry.extensions import route_refusals
from registry.models import FeatureVersion, Region
from registry.selectors import may_see_feature, role_holders
from registry.services import audit_record, deployment_promote, notify

# --- Policies ---------------------------------------------------------------------------------


def gate_for(*, risk_tier: str, environment: str) -> GatePolicy:
    assignment = GateAssignment.objects.filter(risk_tier=risk_tier, environment=environment).first()
    if assignment is None:
        raise Conflict(
            f"No gate is assigned to {risk_tier}-risk features going to {environment}; ask governance.", code="no_gate"
        )
    return GatePolicy.objects.prefetch_related("requirements").get(gate=assignment.gate)


def requirements_snapshot(policy: GatePolicy, requirements: Iterable[GateRequirement] | None = None) -> dict:
    """The policy as a request keeps it: plain data, independent of later edits. With ``requirements``
    (unsaved, from ``gate_requirements_clean``): the policy as a proposed change would make it."""
    if requirements is None:
        requirements = list(policy.requirements.all())
    else:  # in the stored order (``GateRequirement.Meta.ordering``), so equal policies make equal snapshots
        requirements = sorted(requirements, key=lambda r: (r.kind, r.role, r.evidence_kind, r.readiness_item))
    return {
        "gate": policy.gate,
        "review_sla_hours": policy.review_sla_hours,
        "approval_valid_days": policy.approval_valid_days,
        "signoffs": [{"role": r.role, "count": r.count} for r in requirements if r.kind == RequirementKind.SIGNOFF],
        "evidence": [
            {"kind": r.evidence_kind, "min_score": r.min_score, "max_age_days": r.max_age_days}
            for r in requirements
            if r.kind == RequirementKind.EVIDENCE
        ],
        "readiness": [r.readiness_item for r in requirements if r.kind == RequirementKind.READINESS],
    }


def _clean_requirements(requirements: Iterable[dict]) -> list[GateRequirement]:
    cleaned, seen = [], set()
    for spec in requirements:
        kind = spec.get("kind")
        if kind == RequirementKind.SIGNOFF:
            role, count = spec.get("role"), int(spec.get("count") or 1)
            if role not in Role.values or role == Role.AUDITOR:
                raise ValidationError({"requirements": f"{role!r} cannot sign off a gate."})
            if not 1 <= count <= 5:
                raise ValidationError({"requirements": "Between 1 and 5 signers per role."})
            requirement = GateRequirement(kind=kind, role=role, count=count)
            key = (kind, role)
        elif kind == RequirementKind.EVIDENCE:
            evidence_kind = spec.get("evidence_kind")
            if evidence_kind not in EvaluationKind.values:
                raise ValidationError({"requirements": f"{evidence_kind!r} is not an evaluation kind."})
            max_age = spec.get("max_age_days")
            if max_age is not None and int(max_age) < 1:
                raise ValidationError({"requirements": "A maximum age is at least one day."})
            requirement = GateRequirement(
                kind=kind,
                evidence_kind=evidence_kind,
                min_score=spec.get("min_score"),
                max_age_days=int(max_age) if max_age is not None else None,
            )
            key = (kind, evidence_kind)
        elif kind == RequirementKind.READINESS:
            item = spec.get("readiness_item")
            if item not in ReadinessItem.values:
                raise ValidationError({"requirements": f"{item!r} is not a readiness item."})
            requirement = GateRequirement(kind=kind, readiness_item=item)
            key = (kind, item)
        else:
            raise ValidationError({"requirements": f"{kind!r} is not a kind of requirement."})
        if key in seen:
            raise ValidationError({"requirements": f"{requirement} is listed twice."})
        seen.add(key)
        cleaned.append(requirement)
    return cleaned


def gate_requirements_clean(requirements: Iterable[dict]) -> list[GateRequirement]:
    """A gate's requirements as given, checked (unsaved): what saving and previewing a change both accept."""
    requirements = list(requirements or [])
    if not requirements:
        raise ValidationError({"requirements": "A gate needs at least one requirement."})
    cleaned = _clean_requirements(requirements)
    if not any(requirement.kind == RequirementKind.SIGNOFF for requirement in cleaned):
        raise ValidationError({"requirements": "A gate needs at least one sign-off: nothing goes live unreviewed."})
    return cleaned


def _freshness_settings(policy: GatePolicy) -> dict:
    return {"due_soon_days": policy.due_soon_days, "escalation_grace_days": policy.escalation_grace_days}


def gate_policy_update(
    *,
    actor,
    policy: GatePolicy,
    reason: str,
    requirements: Iterable[dict],
    review_sla_hours: int,
    approval_valid_days: int,
    description: str = "",
    due_soon_days: int | None = None,
    escalation_grace_days: int | None = None,
) -> GatePolicy:
    """Replace a gate's requirements and settings. Requests already open keep their snapshot.

    Once it commits, what the gate decides elsewhere follows at once, through the audit event: resolve's
    decisions and readiness (the stamps of the features of the tiers it governs, ``routing.cache``), and the freshness findings that block
    promotions (``freshness.receivers``). ``approvals.impact.gate_policy_preview`` shows it beforehand."""
    if not can_manage_gates(actor):
        raise PermissionDenied("Only governance admins change gate policies.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the gate changes."})
    cleaned = gate_requirements_clean(requirements)
    with transaction.atomic():
        locked = GatePolicy.objects.select_for_update().get(pk=policy.pk)
        before = {**requirements_snapshot(locked), **_freshness_settings(locked)}
        locked.description = description
        locked.review_sla_hours = review_sla_hours
        locked.approval_valid_days = approval_valid_days
        if due_soon_days is not None:
            locked.due_soon_days = due_soon_days
        if escalation_grace_days is not None:
            locked.escalation_grace_days = escalation_grace_days
        locked.full_clean()
        locked.save()
        locked.requirements.all().delete()
        for requirement in cleaned:
            requirement.policy = locked
            requirement.full_clean()
        GateRequirement.objects.bulk_create(cleaned)
        after = requirements_snapshot(GatePolicy.objects.prefetch_related("requirements").get(pk=locked.pk))
        after.update(_freshness_settings(locked))
        audit_record(
            actor=actor,
            action="gate_policy.updated",
            target=locked,
            payload={"old": before, "new": after, "reason": reason.strip()},
        )
    return locked


def gate_assignment_update(*, actor, risk_tier: str, environment: str, gate: str, reason: str) -> GateAssignment:
    if not can_manage_gates(actor):
        raise PermissionDenied("Only governance admins change which gate a tier needs.")
    if risk_tier not in RiskTier.values or environment not in Environment.values or gate not in Gate.values:
        raise ValidationError("Unknown risk tier, environment or gate.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the gate changes."})
    with transaction.atomic():
        assignment, _ = GateAssignment.objects.select_for_update().get_or_create(
            risk_tier=risk_tier, environment=environment, defaults={"gate": gate}
        )
        old = assignment.gate
        assignment.gate = gate
        assignment.save()
        audit_record(
            actor=actor,
            action="gate_assignment.updated",
            target=assignment,
            payload={"risk_tier": risk_tier, "environment": environment, "gate": [old, gate], "reason": reason.strip()},
        )
    return assignment


# --- Requests --------------------------------------------------------------------------------


def _transition(request: ApprovalRequest, new_status: str) -> None:
    if new_status not in REQUEST_TRANSITIONS[request.status]:
        raise Conflict(
            f"Request #{request.pk} is {request.get_status_display().lower()}; it cannot become {new_status}.",
            code="invalid_transition",
        )
    request.status = new_status
    request.decided_at = request.decided_at or timezone.now()


def approval_request_create(
    *, actor, version: FeatureVersion, environment: str, regions: Iterable[Region], note: str = ""
) -> ApprovalRequest:
    """Ask for a gate: snapshot its requirements and open one pending sign-off per required signer."""
    feature = version.feature
    if not can_request_gate(actor, feature):
        raise PermissionDenied(f"Only the {feature.team} team and governance admins request gates for {feature}.")
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Unknown environment {environment!r}."})
    regions = list(regions)
    if not regions:
        raise ValidationError({"regions": "Choose at least one region."})
    served = set(feature.regions.values_list("pk", flat=True))
    outside = sorted(region.code for region in regions if region.pk not in served)
    if outside:
        raise ValidationError(
            {"regions": ValidationError(f"{feature} does not serve {', '.join(outside)}.", code="region_not_allowed")}
        )
    refused = route_refusals(version, environment=environment, regions=regions)
    if refused:  # resolve would answer 409 there once live: refuse before anyone signs
        raise ValidationError(
            {
                "regions": [
                    ValidationError(f"{version.label} could not serve {code}. {reason}", code="region_not_allowed")
                    for code, reason in sorted(refused.items())
                ]
            }
        )
    policy = gate_for(risk_tier=feature.risk_tier, environment=environment)
    snapshot = requirements_snapshot(policy)
    with transaction.atomic():
        locked_version = (
            FeatureVersion.objects.select_for_update(of=("self",)).select_related("feature").get(pk=version.pk)
        )
        if locked_version.status != VersionStatus.SUBMITTED:
            raise Conflict(
                f"{locked_version} is {locked_version.get_status_display().lower()}: only submitted versions go through a gate.",
                code="version_not_submitted",
            )
        if ApprovalRequest.objects.filter(
            version=locked_version, environment=environment, status=RequestStatus.PENDING
        ).exists():
            raise Conflict(
                f"{locked_version} already has a pending request for {environment}.", code="already_requested"
            )
        request = ApprovalRequest.objects.create(
            version=locked_version,
            gate=policy.gate,
            environment=environment,
            requester=actor,
            requirements=snapshot,
            note=note.strip(),
        )
        request.regions.set(regions)
        signoffs = SignOff.objects.bulk_create(
            SignOff(request=request, role=rule["role"], slot=slot)
            for rule in snapshot["signoffs"]
            for slot in range(1, rule["count"] + 1)
        )
        checks = all_checks(
            snapshot,
            locked_version.feature,
            latest_evaluations([locked_version.pk]).get(locked_version.pk, {}),
            version=locked_version,
            environment=environment,
        )
        missing = [f"{check.label}: {check.detail}" for check in unmet(checks)]
        url = reverse("approvals:request_detail", args=[request.pk])
        signers = eligible_signers(request)
        for role in {rule["role"] for rule in snapshot["signoffs"]}:
            notify(
                users=signers.get(role, []),
                subject=f"Sign-off needed: {locked_version} to {environment} ({Gate(policy.gate).label})",
                body=f"{actor.get_full_name() or actor.username} asks for the {Role(role).label.lower()} sign-off.",
                url=url,
                key=f"signoff-queued:{request.pk}:{role}",
            )
        unstaffed = unstaffed_roles(request, signers=signers)
        if unstaffed:
            labels = roles_in_words(unstaffed)
            notify(
                users=role_holders(Role.GOVERNANCE),
                subject=f"Nobody can sign: {locked_version} to {environment}",
                body=f"No one who may see {locked_version.feature} can give the {labels} sign-off. "
                "Grant a reviewer on the feature's page, or the request cannot pass.",
                url=url,
                key=f"signoff-unstaffed:{request.pk}",
            )
        # Recorded after the other writes: the audit chain's lock is the last one a transaction takes.
        audit_record(
            actor=actor,
            action="approval.requested",
            target=request,
            feature=locked_version.feature,
            payload={
                "version": locked_version.number,
                "gate": policy.gate,
                "environment": environment,
                "regions": sorted(region.code for region in regions),
                "signoffs": [str(s.role) for s in signoffs],
                "missing": missing,
                "note": request.note,
                "unstaffed": unstaffed,
            },
        )
        _approve_if_ready(request, actor=actor)
    return request


def approval_request_withdraw(*, actor, request: ApprovalRequest, reason: str) -> ApprovalRequest:
    if actor.pk != request.requester_id and not can_request_gate(actor, request.version.feature):
        raise PermissionDenied("Only the requester, the owning team or governance withdraw a request.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the request is withdrawn."})
    with transaction.atomic():
        locked = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("version__feature")
            .get(pk=request.pk)
        )
        previous = locked.status
        _transition(locked, RequestStatus.WITHDRAWN)
        locked.save(update_fields=["status", "decided_at"])
        audit_record(
            actor=actor,
            action="approval.withdrawn",
            target=locked,
            feature=locked.version.feature,
            payload={"status": [previous, locked.status], "reason": reason.strip()},
        )
    return locked


def _failing_code(failing) -> str:
    kinds = {check.kind for check in failing}
    if "evidence" in kinds:
        return "evidence_stale"
    if "readiness" in kinds:
        return "readiness_unmet"
    return "technical_file_incomplete"


def _approve_if_ready(request: ApprovalRequest, *, actor) -> bool:
    """Approve a pending request whose sign-offs are all approved and whose evidence holds right now.

    Called with the request row locked (or just created) inside the caller's transaction.
    """
    if request.status != RequestStatus.PENDING:
        return False
    if request.signoffs.exclude(status=SignOffStatus.APPROVED).exists():
        return False
    version = request.version
    checks = all_checks(
        request.requirements,
        version.feature,
        latest_evaluations([version.pk]).get(version.pk, {}),
        version=version,
        environment=request.environment,
    )
    if unmet(checks):
        return False
    _transition(request, RequestStatus.APPROVED)
    request.expires_at = request.decided_at + timedelta(days=request.requirements["approval_valid_days"])
    request.save(update_fields=["status", "decided_at", "expires_at"])
    audit_record(
        actor=actor,
        action="approval.approved",
        target=request,
        feature=version.feature,
        payload={
            "status": [RequestStatus.PENDING, RequestStatus.APPROVED],
            "expires_at": request.expires_at,
            "evidence": {check.key: check.detail for check in checks if check.kind == "evidence"},
        },
    )
    notify(
        users=[request.requester, version.feature.accountable_owner],
        subject=f"Approved: {version} may go to {request.environment}",
        body=f"Every sign-off and requirement of the {Gate(request.gate).label.lower()} holds. "
        f"Promote before {request.expires_at:%d %b %Y %H:%M} UTC.",
        url=request.get_absolute_url(),
        key=f"approval-approved:{request.pk}",
    )
    return True


def approval_request_recheck(*, request: ApprovalRequest, actor=None) -> bool:
    """Look again at a pending request (e.g. after new evidence): approve it if everything holds now."""
    with transaction.atomic():
        locked = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("version__feature", "requester")
            .get(pk=request.pk)
        )
        return _approve_if_ready(locked, actor=actor)


def signoff_decide(*, actor, signoff: SignOff, decision: str, reason: str = "") -> SignOff:
    """Approve or reject one sign-off. Separation of duties is enforced here, for every interface."""
    if decision not in Decision.values:
        raise ValidationError({"decision": "Approve or reject."})
    reason = (reason or "").strip()
    if decision == Decision.REJECT and not reason:
        raise ValidationError({"reason": "Say why you reject: the requester needs to know what to fix."})
    with transaction.atomic():
        request = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("version__feature__accountable_owner", "requester")
            .get(pk=signoff.request_id)
        )
        locked = SignOff.objects.select_for_update().get(pk=signoff.pk)
        locked.request = request
        if not may_see_feature(actor, request.version.feature):
            raise SignOff.DoesNotExist("No such sign-off.")  # no trace of a feature the actor may not see
        refusal = signoff_refusal(actor, locked)
        if refusal:
            raise Refused(refusal)
        if request.status != RequestStatus.PENDING:
            raise Conflict(
                f"Request #{request.pk} is {request.get_status_display().lower()}; it takes no more sign-offs.",
                code="already_decided",
            )
        if locked.status != SignOffStatus.PENDING:
            raise Conflict(f"This sign-off was already given by {locked.signer.username}.", code="already_decided")
        locked.status = SignOffStatus.APPROVED if decision == Decision.APPROVE else SignOffStatus.REJECTED
        locked.signer = actor
        locked.reason = reason
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "signer", "reason", "decided_at"])
        feature = request.version.feature
        audit_record(
            actor=actor,
            action=f"signoff.{locked.status}",
            target=request,
            feature=feature,
            payload={
                "signoff": locked.pk,
                "role": locked.role,
                "slot": locked.slot,
                "reason": reason,
                "version": request.version.number,
            },
        )
        if locked.status == SignOffStatus.REJECTED:
            _transition(request, RequestStatus.REJECTED)
            request.save(update_fields=["status", "decided_at"])
            audit_record(
                actor=actor,
                action="approval.rejected",
                target=request,
                feature=feature,
                payload={
                    "status": [RequestStatus.PENDING, RequestStatus.REJECTED],
                    "role": locked.role,
                    "reason": reason,
                },
            )
            notify(
                users=[request.requester, feature.accountable_owner],
                subject=f"Rejected: {request.version} to {request.environment}",
                body=f"{actor.get_full_name() or actor.username} ({Role(locked.role).label.lower()}) rejected it: {reason}",
                url=request.get_absolute_url(),
                key=f"approval-rejected:{request.pk}",
            )
        else:
            _approve_if_ready(request, actor=actor)
    return locked


def approvals_expire(*, now=None) -> int:
    """Approved requests past their expiry become expired (a scheduled task calls this)."""
    now = now or timezone.now()
    expired = 0
    for request_id in ApprovalRequest.objects.filter(status=RequestStatus.APPROVED, expires_at__lt=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            request = (
                ApprovalRequest.objects.select_for_update(of=("self",))
                .select_related("version__feature")
                .get(pk=request_id)
            )
            if request.status != RequestStatus.APPROVED or request.expires_at >= now:
                continue  # another worker got there first
            request.status = RequestStatus.EXPIRED
            request.save(update_fields=["status"])
            audit_record(
                actor=None,
                action="approval.expired",
                target=request,
                feature=request.version.feature,
                payload={"status": [RequestStatus.APPROVED, RequestStatus.EXPIRED], "expires_at": request.expires_at},
            )
            expired += 1
    return expired


# --- Promotion -------------------------------------------------------------------------------


def promotion_execute(*, actor, request: ApprovalRequest, reason: str = "") -> list:
    """Make an approved version live in the request's environment and regions.

    Refuses, saying why, when the approval is missing or expired, or evidence or readiness no longer
    hold at this moment. Registry's ``deployment_promote`` flips the pointers and records history.
    """
    with transaction.atomic():
        locked = (
            ApprovalRequest.objects.select_for_update(of=("self",))
            .select_related("version__feature__incident_owner", "requester")
            .get(pk=request.pk)
        )
        feature = locked.version.feature
        if not can_promote(actor, feature):
            raise PermissionDenied(
                f"Only the {feature.team} team (or its CI token) and governance admins promote {feature}."
            )
        if locked.status == RequestStatus.PENDING:
            raise Conflict(
                f"Request #{locked.pk} is still pending: every sign-off and requirement must hold first.",
                code="approval_pending",
            )
        if locked.status != RequestStatus.APPROVED:
            raise Conflict(
                f"Request #{locked.pk} is {locked.get_status_display().lower()}; request the gate again.",
                code="approval_expired" if locked.status == RequestStatus.EXPIRED else "approval_not_approved",
            )
        now = timezone.now()
        if locked.expires_at and locked.expires_at < now:
            raise Conflict(
                f"The approval expired on {locked.expires_at:%d %b %Y %H:%M} UTC; request the gate again.",
                code="approval_expired",
            )
        used = feature.deployment_events.filter(approval_request_id=locked.pk).order_by("at").first()
        if used is not None:
            raise Conflict(
                f"Request #{locked.pk} was used to promote {locked.version.label} on {used.at:%d %b %Y %H:%M} UTC. "
                "An approval promotes once: request the gate again.",
                code="approval_used",
            )
        required = gate_for(risk_tier=feature.risk_tier, environment=locked.environment)
        if required.gate != locked.gate:
            raise Conflict(
                f"{feature} is now {feature.risk_tier} risk and needs the {Gate(required.gate).label.lower()}; "
                f"this request passed the {Gate(locked.gate).label.lower()}. Request the gate again.",
                code="gate_changed",
            )
        checks = all_checks(
            locked.requirements,
            feature,
            latest_evaluations([locked.version_id]).get(locked.version_id, {}),
            version=locked.version,
            environment=locked.environment,
        )
        failing = unmet(checks)
        if failing:
            raise Conflict(
                "The evidence or readiness no longer holds since the approval: "
                + "; ".join(f"{check.label}: {check.detail}" for check in failing),
                code=_failing_code(failing),
            )
        regions = list(locked.regions.all())
        refused = route_refusals(locked.version, environment=locked.environment, regions=regions)
        if refused:  # a suspension or a policy change since the request: it would go live refused
            raise Conflict(
                "Resolve would refuse the version where it would go live: "
                + " ".join(f"{code}: {reason}" for code, reason in sorted(refused.items()))
                + " Request the gate again for the regions it can serve.",
                code="region_not_allowed",
            )
        return deployment_promote(
            actor=actor,
            version=locked.version,
            environment=locked.environment,
            regions=regions,
            reason=reason.strip() or f"Approved through request #{locked.pk} ({Gate(locked.gate).label.lower()}).",
            approval_request_id=locked.pk,
            approval_summary=_approval_summary(locked),
        )


def _approval_summary(request: ApprovalRequest) -> dict:
    """Who approved, kept on the deployment history so "what was live then, and on whose word" needs no join."""
    return {
        "request": request.pk,
        "gate": request.gate,
        "requested_by": request.requester.username,
        "approved_at": request.decided_at.isoformat() if request.decided_at else None,
        "signoffs": [
            {
                "role": signoff.role,
                "signer": signoff.signer.username,
                "at": signoff.decided_at.isoformat(),
                "reason": signoff.reason,
            }
            for signoff in request.signoffs.select_related("signer").order_by("role", "slot")
            if signoff.signer_id
        ],
    }


# --- Reminders -------------------------------------------------------------------------------


def signoff_reminders_send(*, now=None) -> int:
    """Remind each role about sign-offs older than their gate's review SLA: at most once a day each."""
    now = now or timezone.now()
    reminded = 0
    pending = SignOff.objects.filter(
        status=SignOffStatus.PENDING, request__status=RequestStatus.PENDING
    ).select_related("request__version__feature", "request__requester")
    signers: dict[int, dict[str, list]] = {}
    for signoff in pending:
        request = signoff.request
        if signoff.created_at > now - timedelta(hours=request.requirements.get("review_sla_hours", 48)):
            continue
        if request.pk not in signers:
            signers[request.pk] = eligible_signers(request)
        eligible = signers[request.pk].get(signoff.role, [])
        with transaction.atomic():
            sent = notify(
                users=eligible,
                subject=f"Waiting for you: {Role(signoff.role).label} sign-off on {request.version}",
                body=f"Requested {(now - request.created_at).days} days ago; the gate's review SLA is "
                f"{request.requirements.get('review_sla_hours', 48)} hours.",
                url=request.get_absolute_url(),
                key=f"signoff-reminder:{request.pk}:{signoff.role}:{now:%Y-%m-%d}",
            )
        reminded += len(sent)
    return reminded


def _signoffs_given_for(user, roles):
    """Sign-offs ``user`` gave as one of ``roles`` on requests still open."""
    return SignOff.objects.filter(
        signer=user, status=SignOffStatus.APPROVED, role__in=list(roles), request__status=RequestStatus.PENDING
    )


def signoffs_withdraw_on_role_loss(user, *, actor, reason: str, removed_roles=(), **change) -> int:
    """A signer who lost a role no longer vouches as it: their approvals on open requests are withdrawn.

    Registered on ``registry.extensions.membership_listeners``: runs inside the transaction that took the
    role, before that change's own audit event. The slot is open again for another holder of the role;
    the requester is told. Returns how many were withdrawn."""
    if not removed_roles:
        return 0
    request_ids = sorted(set(_signoffs_given_for(user, removed_roles).values_list("request_id", flat=True)))
    if not request_ids:
        return 0
    requests = {
        request.pk: request
        for request in ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("version__feature", "requester")
        .filter(pk__in=request_ids)
        .order_by("pk")
    }
    withdrawn = list(_signoffs_given_for(user, removed_roles).select_for_update().order_by("pk"))
    for signoff in withdrawn:
        request = requests[signoff.request_id]
        signoff.status = SignOffStatus.PENDING
        signoff.signer = None
        signoff.reason = ""
        signoff.decided_at = None
        signoff.save(update_fields=["status", "signer", "reason", "decided_at"])
        audit_record(
            actor=actor,
            action="signoff.withdrawn",
            target=request,
            feature=request.version.feature,
            payload={
                "signoff": signoff.pk,
                "role": signoff.role,
                "signer": user.get_username(),
                "reason": f"{user.get_username()} no longer holds the {Role(signoff.role).label.lower()} role"
                + (f": {reason}" if reason else ""),
            },
        )
        notify(
            users=[request.requester],
            subject=f"Sign-off withdrawn: {request.version} to {request.environment}",
            body=f"{user.get_full_name() or user.get_username()} no longer holds the "
            f"{Role(signoff.role).label.lower()} role, so their sign-off was withdrawn; the slot is open again.",
            url=request.get_absolute_url(),
            key=f"signoff-withdrawn:{signoff.pk}:{timezone.now():%Y%m%d%H%M%S}",
        )
    return len(withdrawn)


def signoffs_at_stake(user, *, removed_roles=(), **change) -> list[str]:
    """For a confirmation page: the sign-offs a role change would withdraw (governance sees every feature)."""
    if not removed_roles:
        return []
    lines = []
    for signoff in _signoffs_given_for(user, removed_roles).select_related("request__version__feature"):
        request = signoff.request
        lines.append(
            f"Their {Role(signoff.role).label.lower()} sign-off on request #{request.pk} "
            f"({request.version} to {request.environment}) will be withdrawn; the slot opens again."
        )
    return lines
