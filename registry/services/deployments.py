"""Flipping the live pointers. Approvals decides *whether* a version may go live and then calls
``deployment_promote``; rollback needs no new approval but only returns to what served before;
withdrawal takes a pointer down (nothing serves there until a new promotion).

Lock order: the feature row first (every pointer change of a feature queues behind it), then its
deployment rows. Callers that hold other locks (an approval request) take them before calling.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core import error_codes
from core.exceptions import Conflict
from registry.choices import DeploymentEventKind, Environment, VersionStatus
from registry.extensions import promotion_blockers, rollback_prepare
from registry.models import AIFeature, Deployment, DeploymentEvent, FeatureVersion, Region
from registry.permissions import can_edit_feature, can_roll_back
from registry.services.audit import audit_record, audit_record_many
from registry.signals import deployment_changed


def _event_payload(event: DeploymentEvent) -> dict:
    return {
        "environment": event.environment,
        "region": event.region.code,
        "from_version": event.from_version.number if event.from_version_id else None,
        "to_version": event.to_version.number if event.to_version_id else None,
        "reason": event.reason,
        "approval_request": event.approval_request_id,
        "incident": event.incident_id,
    }


# The guards' reasons that answer with their own code when they are the only kind of reason.
OWN_CODE_REASONS = {error_codes.EVIDENCE_STALE, error_codes.TECHNICAL_FILE_INCOMPLETE, error_codes.PROHIBITED_PRACTICE}


def deployment_promote(
    *,
    actor,
    version: FeatureVersion,
    environment: str,
    regions: Iterable[Region],
    reason: str,
    approval_request_id: int,
    approval_summary: dict | None = None,
) -> list[DeploymentEvent]:
    """Make ``version`` live in each region. Only the approvals app calls this, with the approval it
    has just verified; it checks what the registry itself knows (the version is submitted, the
    feature serves those regions) and records one DeploymentEvent and one audit event per region."""
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Unknown environment {environment!r}."})
    regions = list(regions)
    if not regions:
        raise ValidationError({"regions": "Promote to at least one region."})
    with transaction.atomic():
        feature = AIFeature.objects.select_for_update().get(pk=version.feature_id)
        blockers = promotion_blockers(feature, version=version, environment=environment)
        if blockers:
            # A single kind of reason gives its own code (stale evidence, a regulatory refusal); mixed ones are a
            # freeze.
            codes = {error_codes.code_of(blocker, error_codes.PROMOTION_FROZEN) for blocker in blockers}
            raise Conflict(
                "Promotions of this feature are frozen: " + "; ".join(blockers) + " Rollbacks stay allowed.",
                code=codes.pop() if len(codes) == 1 and codes <= OWN_CODE_REASONS else error_codes.PROMOTION_FROZEN,
            )
        version = FeatureVersion.objects.select_related("feature").get(pk=version.pk)
        if version.status != VersionStatus.SUBMITTED:
            raise Conflict(
                f"{version} is {version.get_status_display().lower()}; only submitted versions go live.",
                code=error_codes.VERSION_NOT_SUBMITTED,
            )
        served = set(feature.regions.values_list("pk", flat=True))
        outside = [region.code for region in regions if region.pk not in served]
        if outside:
            raise ValidationError({"regions": f"{feature} does not serve {', '.join(outside)}."})
        now = timezone.now()
        events = []
        for region in regions:
            deployment = (
                Deployment.objects.select_for_update()
                .filter(feature=feature, environment=environment, region=region)
                .first()
            )
            previous = deployment.version if deployment else None
            if previous is not None and previous.pk == version.pk:
                continue  # already live there: nothing to flip, nothing to record
            if deployment is None:
                deployment = Deployment(feature=feature, environment=environment, region=region)
            deployment.version = version
            deployment.updated_at = now
            deployment.updated_by = actor
            deployment.save()
            event = DeploymentEvent.objects.create(
                feature=feature,
                environment=environment,
                region=region,
                kind=DeploymentEventKind.PROMOTED,
                from_version=previous,
                to_version=version,
                actor=actor,
                reason=reason,
                approval_request_id=approval_request_id,
                approval_summary=approval_summary or {},
                at=now,
            )
            audit_record(
                actor=actor,
                action="deployment.promoted",
                target=deployment,
                feature=feature,
                payload=_event_payload(event),
            )
            events.append(event)
        if not events:
            raise Conflict(
                f"{version} is already live in {environment} in every region asked for.", code=error_codes.ALREADY_LIVE
            )
        changed = {version.pk} | {event.from_version_id for event in events if event.from_version_id}
        deployment_changed.send(sender=Deployment, feature=feature, version_ids=sorted(changed), actor=actor)
    return events


def _pointer_history(feature: AIFeature, environment: str, region: Region):
    return DeploymentEvent.objects.filter(feature=feature, environment=environment, region=region)


def rollback_candidates(*, feature: AIFeature, environment: str, region: Region) -> list[FeatureVersion]:
    """Versions a rollback may return to: they served this pointer before (most recently live first),
    and nobody rolled back away from them or withdrew them since they last served. Not the one live now.

    Each went live through an approved promotion, so returning to it needs no new approval. A version
    that was rolled back away from, or approved but never served, goes live only by promotion (which
    needs a valid approval and respects a freeze): a rollback never moves forward to it.
    """
    current = (
        Deployment.objects.filter(feature=feature, environment=environment, region=region)
        .values_list("version_id", flat=True)
        .first()
    )
    events = _pointer_history(feature, environment, region).order_by("-at", "-id")
    eligible = rollback_candidate_ids(
        events.values_list("kind", "from_version_id", "to_version_id", "at"), current_version_id=current
    )
    versions = FeatureVersion.objects.in_bulk(eligible)
    return [versions[pk] for pk in eligible if versions[pk].status == VersionStatus.SUBMITTED]


def rollback_candidate_ids(events, *, current_version_id: int | None) -> list[int]:
    """The rule of ``rollback_candidates`` on one pointer's history, read nothing: ``events`` are
    ``(kind, from_version_id, to_version_id, at)`` newest first. Returns version ids, most recently live
    first (the caller keeps those still submitted). Readiness applies it to many pointers at once."""
    last_live: dict[int, object] = {}
    last_abandoned: dict[int, object] = {}
    order: list[int] = []
    for kind, from_id, to_id, at in events:
        if to_id:
            last_live.setdefault(to_id, at)
        if kind in (DeploymentEventKind.ROLLED_BACK, DeploymentEventKind.WITHDRAWN) and from_id:
            last_abandoned.setdefault(from_id, at)
        for version_id in (to_id, from_id):
            if version_id and version_id not in order:
                order.append(version_id)
    return [
        pk
        for pk in order
        if pk != current_version_id
        and pk in last_live
        and not (pk in last_abandoned and last_abandoned[pk] >= last_live[pk])
    ]


def pointers_with_rollback(*, feature: AIFeature, deployments: Iterable[Deployment]) -> set[tuple[str, int]]:
    """The live pointers among ``deployments`` (of ``feature``), as (environment, region id), that a
    rollback may return to an earlier version (``rollback_candidates``' rule for all of them, in two
    queries). Where it may not, the feature page offers a withdrawal instead of a rollback that leads nowhere."""
    current = {(deployment.environment, deployment.region_id): deployment.version_id for deployment in deployments}
    if not current:
        return set()
    history: dict[tuple[str, int], list] = {}
    for environment, region_id, *event in (
        DeploymentEvent.objects.filter(feature=feature)
        .order_by("-at", "-id")
        .values_list("environment", "region_id", "kind", "from_version_id", "to_version_id", "at")
    ):
        history.setdefault((environment, region_id), []).append(tuple(event))
    candidates = {
        pointer: rollback_candidate_ids(history.get(pointer, []), current_version_id=version_id)
        for pointer, version_id in current.items()
    }
    wanted = {pk for found in candidates.values() for pk in found}
    usable = (
        set(FeatureVersion.objects.filter(pk__in=wanted, status=VersionStatus.SUBMITTED).values_list("pk", flat=True))
        if wanted
        else set()
    )
    return {pointer for pointer, found in candidates.items() if usable.intersection(found)}


def rollback_choices(*, feature: AIFeature, candidates: list[FeatureVersion]):
    """``rollback_candidates`` as a queryset for a form's choices (newest version first)."""
    return (
        feature.versions.filter(pk__in=[version.pk for version in candidates])
        .select_related("model", "prompt")
        .order_by("-number")
    )


def default_rollback_target(*, feature: AIFeature, environment: str, region: Region) -> FeatureVersion | None:
    """The most recently live version a rollback may return to (None: there is none)."""
    candidates = rollback_candidates(feature=feature, environment=environment, region=region)
    return candidates[0] if candidates else None


def _lock_live(feature: AIFeature, environment: str, region: Region, *, nothing_to: str):
    """Lock the feature, then its live pointer there (the services' lock order); Conflict when nothing is live."""
    feature = AIFeature.objects.select_for_update().get(pk=feature.pk)
    deployment = (
        Deployment.objects.select_for_update(of=("self",))
        .select_related("version", "region")
        .filter(feature=feature, environment=environment, region=region)
        .first()
    )
    if deployment is None:
        raise Conflict(
            f"{feature} is not live in {environment} in {region.code}: there is nothing to {nothing_to}.",
            code=error_codes.NOT_LIVE,
        )
    return feature, deployment


def deployment_rollback(
    *,
    actor,
    feature: AIFeature,
    environment: str,
    region: Region,
    reason: str,
    to_version: FeatureVersion | None = None,
    incident_id: int | None = None,
) -> DeploymentEvent:
    """Return a pointer to a version that served it before (default: ``default_rollback_target``)."""
    if not can_roll_back(actor, feature, from_incident=incident_id is not None):
        raise PermissionDenied(
            f"Only the {feature.team} team and governance admins (and support, from an incident) may roll back {feature}."
        )
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why you are rolling back."})
    with transaction.atomic():
        feature, deployment = _lock_live(feature, environment, region, nothing_to="roll back")
        candidates = rollback_candidates(feature=feature, environment=environment, region=region)
        if not candidates:
            raise Conflict(
                f"No earlier version of {feature} may be returned to in {environment} in {region.code}: none served "
                "there, or each was rolled back away from. Promote an approved version instead.",
                code=error_codes.NO_ROLLBACK_TARGET,
            )
        if to_version is None:
            to_version = candidates[0]
        elif to_version.pk not in {candidate.pk for candidate in candidates}:
            choices = ", ".join(f"v{candidate.number}" for candidate in candidates)
            raise ValidationError(
                {
                    "to_version": f"A rollback to v{to_version.number} is not possible in {environment}/{region.code} "
                    f"(it never served there, or was rolled back away from); choose {choices}."
                }
            )
        # What the rollback is about to change is kept first (an incident's evidence snapshot).
        rollback_prepare(
            feature, deployment, actor=actor, to_version=to_version, reason=reason.strip(), incident_id=incident_id
        )
        previous = deployment.version
        now = timezone.now()
        deployment.version = to_version
        deployment.updated_at = now
        deployment.updated_by = actor
        deployment.save(update_fields=["version", "updated_at", "updated_by"])
        event = DeploymentEvent.objects.create(
            feature=feature,
            environment=environment,
            region=region,
            kind=DeploymentEventKind.ROLLED_BACK,
            from_version=previous,
            to_version=to_version,
            actor=actor,
            reason=reason.strip(),
            incident_id=incident_id,
            at=now,
        )
        audit_record(
            actor=actor,
            action="deployment.rolled_back",
            target=deployment,
            feature=feature,
            payload=_event_payload(event),
        )
        deployment_changed.send(
            sender=Deployment, feature=feature, version_ids=sorted({previous.pk, to_version.pk}), actor=actor
        )
    return event


def deployment_withdraw(*, actor, feature: AIFeature, environment: str, region: Region, reason: str) -> DeploymentEvent:
    """Take a pointer down: nothing serves ``feature`` in ``environment``/``region`` afterwards, and resolve
    answers 409 "withdrawn" there until a version is promoted again (with a valid approval).

    For a route resolve refuses anyway (a later suspension, a policy change), or one that must stop at
    once where no earlier version may be returned to. The owning team and governance admins; never
    guarded (like a rollback, it takes something away). The history keeps the withdrawn version.
    """
    if not can_edit_feature(actor, feature):
        raise PermissionDenied(
            f"Only the {feature.team} team and governance admins may withdraw {feature} from a region."
        )
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Unknown environment {environment!r}."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why you withdraw: callers of resolve and the owners read it."})
    with transaction.atomic():
        feature, deployment = _lock_live(feature, environment, region, nothing_to="withdraw")
        previous = deployment.version
        deployment_id, deployment_repr = deployment.pk, str(deployment)
        deployment.delete()
        event = DeploymentEvent.objects.create(
            feature=feature,
            environment=environment,
            region=region,
            kind=DeploymentEventKind.WITHDRAWN,
            from_version=previous,
            to_version=None,
            actor=actor,
            reason=reason,
            at=timezone.now(),
        )
        audit_record_many(
            [
                {  # the pointer row is gone: named by the id and text it had
                    "actor": actor,
                    "action": "deployment.withdrawn",
                    "object_type": "deployment",
                    "object_id": deployment_id,
                    "object_repr": deployment_repr,
                    "feature": feature,
                    "payload": _event_payload(event),
                }
            ]
        )
        deployment_changed.send(sender=Deployment, feature=feature, version_ids=[previous.pk], actor=actor)
    return event
