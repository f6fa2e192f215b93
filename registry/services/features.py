"""Registering and changing AI features."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from core import error_codes
from core.exceptions import Conflict, Refused
from core.locks import save_unique
from registry.choices import FEATURE_TRANSITIONS, RISK_TIER_ORDER, ChangeRequestStatus, RiskTier, Role
from registry.models import AIFeature, FeatureChangeRequest, Region, Team
from registry.permissions import (
    can_create_feature_for,
    can_edit_feature,
    feature_grant_to_team,
    is_governance,
    owner_refusal,
    user_team_ids,
)
from registry.services.audit import audit_record, changes
from registry.services.notifications import notify
from registry.signals import feature_updated

# Fields a caller may set on a feature; relations are handled by name below.
FEATURE_FIELDS = (
    "slug",
    "name",
    "purpose",
    "team",
    "accountable_owner",
    "incident_owner",
    "escalation_path",
    "risk_tier",
    "intended_uses",
    "disallowed_uses",
    "data_classification",
    "slos",
    "monitors",
    "operational_fallback",
    "rollback_path",
    "stop_expansion_criteria",
    "status",
    "restricted",
)
EDITABLE_FEATURE_FIELDS = tuple(name for name in FEATURE_FIELDS if name != "slug")


_monitor_url = URLValidator(schemes=["http", "https"])


def _check_monitors(feature: AIFeature) -> None:
    """Monitors are links people click: only http(s) URLs, one per line."""
    for line in feature.monitor_links:
        try:
            _monitor_url(line)
        except ValidationError:
            raise ValidationError({"monitors": f"{line[:80]!r} is not an http(s) link."}) from None


def _check_owners_can_hold(feature: AIFeature, names: Iterable[str] = ("accountable_owner", "incident_owner")) -> None:
    """Owners answer for the feature: only active people with a team or a role, not auditors."""
    errors = {}
    for field in names:
        label = AIFeature._meta.get_field(field).verbose_name
        refusal = owner_refusal(getattr(feature, field), str(label))
        if refusal:
            errors[field] = refusal
    if errors:
        raise ValidationError(errors)


def _check_owners_can_see(feature: AIFeature) -> None:
    """The accountable and incident owners are told about the feature: they must be allowed to see it."""
    from registry.selectors import features_visible_to

    for field in ("accountable_owner", "incident_owner"):
        owner = getattr(feature, field)
        if not features_visible_to(owner).filter(pk=feature.pk).exists():
            label = AIFeature._meta.get_field(field).verbose_name
            raise ValidationError(
                {field: f"{owner.get_username()} cannot see this restricted feature, so cannot be its {label}."}
            )


def feature_snapshot(feature: AIFeature) -> dict[str, Any]:
    snapshot: dict[str, Any] = {name: getattr(feature, name) for name in FEATURE_FIELDS}
    snapshot["team"] = str(feature.team)
    snapshot["accountable_owner"] = feature.accountable_owner.get_username()
    snapshot["incident_owner"] = feature.incident_owner.get_username()
    snapshot["regions"] = sorted(region.code for region in feature.regions.all()) if feature.pk else []
    return snapshot


def feature_create(*, actor, regions: Iterable[Region], **fields: Any) -> AIFeature:
    """Register a feature for a team. Members of that team and governance admins may."""
    unknown = set(fields) - set(FEATURE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown feature fields: {', '.join(sorted(unknown))}")
    team: Team = fields["team"]
    if not can_create_feature_for(actor, team):
        raise PermissionDenied(f"You are not a member of {team} and cannot register features for it.")
    regions = list(regions)
    if not regions:
        raise ValidationError({"regions": "Choose at least one region the feature serves."})
    feature = AIFeature(created_by=actor, **fields)
    feature.full_clean()
    _check_owners_can_hold(feature)
    _check_monitors(feature)
    with transaction.atomic():
        save_unique(feature)
        feature.regions.set(regions)
        feature_grant_to_team(feature=feature, team=team)
        _check_owners_can_see(feature)
        audit_record(
            actor=actor,
            action="feature.created",
            target=feature,
            feature=feature,
            payload={"new": feature_snapshot(feature)},
        )
    return feature


def feature_update(
    *, actor, feature: AIFeature, reason: str, regions: Iterable[Region] | None = None, **fields: Any
) -> AIFeature:
    """Change a feature's record. Every change says why; the audit event keeps old → new.

    A change that weakens governance (a lower risk tier, the restriction lifted, more regions for a
    restricted or regulated feature) does not apply unless governance makes it: it becomes a pending
    ``FeatureChangeRequest`` that governance approves or rejects, and governance is told. The rest of the
    edit applies at once. A governance admin who belongs to the owning team is judging their own team's
    feature, so their weakening change also waits for another governance admin (separation of duties).
    The returned feature carries the request made, if any, as ``change_request`` (else None), and what
    changed at once as ``applied_changes`` (the audit's old → new by field; empty if nothing).
    """
    unknown = set(fields) - set(EDITABLE_FEATURE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the feature is changing."})
    if not can_edit_feature(actor, feature):
        raise PermissionDenied("Only the owning team and governance admins may edit this feature.")
    with transaction.atomic():
        locked = AIFeature.objects.select_for_update().get(pk=feature.pk)
        weakening: dict[str, Any] = {}
        if feature_update_needs_governance(actor, locked):
            weakening, fields, regions = _split_weakening(locked, dict(fields), regions)
        if weakening and locked.change_requests.filter(status=ChangeRequestStatus.PENDING).exists():
            raise Conflict(
                f"{locked} already has a change waiting for governance; it must be approved or rejected "
                "before another change of its risk tier, restriction or regions.",
                code=error_codes.CHANGE_PENDING,
            )
        before_weakening = {
            "risk_tier": locked.risk_tier,
            "restricted": locked.restricted,
            "regions": sorted(region.code for region in locked.regions.all()),
        }
        locked = _apply_update(actor=actor, locked=locked, reason=reason.strip(), regions=regions, fields=fields)
        locked.change_request = None
        if weakening:
            locked.change_request = _change_request_create(
                actor=actor, feature=locked, changes=weakening, before=before_weakening, reason=reason.strip()
            )
    return locked


def feature_update_needs_governance(actor, feature: AIFeature) -> bool:
    """Whether ``actor``'s weakening edits of ``feature`` wait for governance. Governance's own edits apply
    directly, unless the admin belongs to the owning team (they would be judging their own team's feature)."""
    return not is_governance(actor) or feature.team_id in user_team_ids(actor)


def _split_weakening(locked: AIFeature, fields: dict, regions) -> tuple[dict, dict, list | None]:
    """Take out of an edit what weakens governance. Returns (the weakening part, the other fields, the
    regions to set now or None). Regions a guarded feature gains wait; regions it drops go at once when
    some remain (dropping all of them waits with the rest)."""
    weakening: dict[str, Any] = {}
    tier = fields.get("risk_tier")
    if tier in RISK_TIER_ORDER and RISK_TIER_ORDER.index(tier) < RISK_TIER_ORDER.index(locked.risk_tier):
        weakening["risk_tier"] = str(fields.pop("risk_tier"))
    if locked.restricted and "restricted" in fields and not fields["restricted"]:
        fields.pop("restricted")
        weakening["restricted"] = False
    if regions is not None:
        regions = list(regions)
        guarded = (
            locked.restricted
            or fields.get("restricted") is True
            or RiskTier.REGULATED in (locked.risk_tier, fields.get("risk_tier"))
        )
        current = {region.code: region for region in locked.regions.all()}
        asked = {region.code: region for region in regions}
        added = sorted(set(asked) - set(current))
        if guarded and added:
            removed = sorted(set(current) - set(asked))
            weakening["regions_added"] = added
            weakening["regions_removed"] = removed
            remaining = [region for code, region in current.items() if code not in removed]
            regions = remaining if remaining and removed else None
    return weakening, fields, regions


def _apply_update(
    *, actor, locked: AIFeature, reason: str, regions, fields: dict, extra: dict | None = None
) -> AIFeature:
    """Apply a change to a feature already locked by the caller, in the caller's transaction; audit it."""
    before = feature_snapshot(locked)
    previous_team = locked.team
    new_team = fields.get("team")
    if new_team is not None and new_team.pk != previous_team.pk and not can_create_feature_for(actor, new_team):
        raise PermissionDenied(f"You cannot hand this feature to {new_team}: you are not a member of it.")
    new_status = fields.get("status", locked.status)
    if new_status != locked.status and new_status not in FEATURE_TRANSITIONS[locked.status]:
        allowed = " or ".join(sorted(FEATURE_TRANSITIONS[locked.status])) or "nothing else"
        raise ValidationError(
            {
                "status": f"The feature is {locked.get_status_display().lower()}: it can become {allowed}, not {new_status}."
            }
        )
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    _check_owners_can_hold(locked, [name for name in ("accountable_owner", "incident_owner") if name in fields])
    _check_monitors(locked)
    locked.save()
    if regions is not None:
        regions = list(regions)
        if not regions:
            raise ValidationError({"regions": "Choose at least one region the feature serves."})
        locked.regions.set(regions)
    if locked.team_id != previous_team.pk:
        feature_grant_to_team(feature=locked, team=locked.team, previous_team=previous_team)
    _check_owners_can_see(locked)
    after = feature_snapshot(locked)
    diff = changes(before, after)
    locked.applied_changes = diff
    if diff:
        feature_updated.send(sender=AIFeature, feature=locked, actor=actor)
        audit_record(
            actor=actor,
            action="feature.updated",
            target=locked,
            feature=locked,
            payload={"changes": diff, "reason": reason, **(extra or {})},
        )
    return locked


def _change_request_create(
    *, actor, feature: AIFeature, changes: dict, before: dict, reason: str
) -> FeatureChangeRequest:
    change = FeatureChangeRequest.objects.create(
        feature=feature, changes=changes, before=before, reason=reason, requested_by=actor
    )
    from registry.selectors import role_holders

    asked = "; ".join(f"{what}: {now} → {wanted}" for what, now, wanted in change.rows)
    notify(
        users=role_holders(Role.GOVERNANCE, exclude=[actor.pk]),
        subject=f"Governance approval needed: {feature} ({asked})"[:200],
        body=f"{actor.get_username()} asks to change {feature}: {asked}.\nWhy: {reason}\n"
        "Nothing changes until a governance admin approves it.",
        url=change.get_absolute_url(),
        key=f"feature-change-{change.pk}-requested",
    )
    audit_record(
        actor=actor,
        action="feature.change_requested",
        target=change,
        feature=feature,
        payload={"changes": changes, "before": before, "reason": reason},
    )
    return change


def _lock_pending(change: FeatureChangeRequest) -> FeatureChangeRequest:
    locked = FeatureChangeRequest.objects.select_for_update().get(pk=change.pk)
    if locked.status != ChangeRequestStatus.PENDING:
        raise Conflict(
            f"Change request #{locked.pk} is already {locked.get_status_display().lower()}.",
            code=error_codes.ALREADY_DECIDED,
        )
    return locked


def feature_change_approve(*, actor, change: FeatureChangeRequest, reason: str = "") -> FeatureChangeRequest:
    """Governance approves a pending weakening change: it applies through the same update as any edit
    (locked, audited). The person who asked cannot approve it (separation of duties)."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins approve changes that weaken a feature's governance.")
    with transaction.atomic():
        feature = AIFeature.objects.select_for_update().get(pk=change.feature_id)
        locked = _lock_pending(change)
        if locked.requested_by_id == actor.pk:
            raise Refused(
                "You asked for this change, so another governance admin must approve it (separation of duties).",
                code=error_codes.SEPARATION_OF_DUTIES,
            )
        asked = locked.changes
        fields = {name: asked[name] for name in ("risk_tier", "restricted") if name in asked}
        regions = None
        if asked.get("regions_added") or asked.get("regions_removed"):
            current = set(feature.regions.values_list("code", flat=True))
            codes = (current | set(asked.get("regions_added", []))) - set(asked.get("regions_removed", []))
            regions = list(Region.objects.filter(code__in=codes))
        locked.status = ChangeRequestStatus.APPROVED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = (reason or "").strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        _notify_decision(locked)
        _apply_update(
            actor=actor,
            locked=feature,
            reason=f"Approved change request #{locked.pk}: {locked.reason}",
            regions=regions,
            fields=fields,
            extra={"change_request": locked.pk, "requested_by": locked.requested_by.get_username()},
        )
        audit_record(
            actor=actor,
            action="feature.change_approved",
            target=locked,
            feature=feature,
            payload={
                "changes": asked,
                "requested_by": locked.requested_by.get_username(),
                "reason": locked.decision_reason,
            },
        )
    return locked


def feature_change_reject(*, actor, change: FeatureChangeRequest, reason: str) -> FeatureChangeRequest:
    """Governance rejects a pending weakening change, saying why; the feature stays as it is. Rejecting
    only keeps the stricter state, so the admin who asked may also reject (withdraw) their own request."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins decide changes that weaken a feature's governance.")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why you reject: the team needs to know what to do instead."})
    with transaction.atomic():
        feature = AIFeature.objects.select_for_update().get(pk=change.feature_id)
        locked = _lock_pending(change)
        locked.status = ChangeRequestStatus.REJECTED
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.decision_reason = reason.strip()
        locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
        _notify_decision(locked)
        audit_record(
            actor=actor,
            action="feature.change_rejected",
            target=locked,
            feature=feature,
            payload={
                "changes": locked.changes,
                "requested_by": locked.requested_by.get_username(),
                "reason": locked.decision_reason,
            },
        )
    return locked


def _notify_decision(change: FeatureChangeRequest) -> None:
    verb = change.get_status_display().lower()
    notify(
        users=[change.requested_by],
        subject=f"Your change to {change.feature} was {verb}",
        body=f"{change.decided_by.get_username()} {verb} it."
        + (f"\nWhy: {change.decision_reason}" if change.decision_reason else ""),
        url=change.get_absolute_url(),
        key=f"feature-change-{change.pk}-{change.status}",
    )
