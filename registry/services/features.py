"""Registering and changing AI features."""

from __future__ import annotations

from typing import Any, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from registry.choices import FEATURE_TRANSITIONS
from registry.models import AIFeature, Region, Team
from registry.permissions import can_create_feature_for, can_edit_feature, feature_grant_to_team
from registry.services.audit import audit_record, changes
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


def _check_owners_can_see(feature: AIFeature) -> None:
    """The accountable and incident owners are told about the feature: they must be allowed to see it."""
    from registry.selectors import features_visible_to

    for field in ("accountable_owner", "incident_owner"):
        owner = getattr(feature, field)
        if not features_visible_to(owner).filter(pk=feature.pk).exists():
            label = AIFeature._meta.get_field(field).verbose_name
            raise ValidationError({field: f"{owner.get_username()} cannot see this restricted feature, so cannot be its {label}."})


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
    _check_monitors(feature)
    with transaction.atomic():
        feature.save()
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
    """Change a feature's record. Every change says why; the audit event keeps old → new."""
    unknown = set(fields) - set(EDITABLE_FEATURE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the feature is changing."})
    if not can_edit_feature(actor, feature):
        raise PermissionDenied("Only the owning team and governance admins may edit this feature.")
    with transaction.atomic():
        locked = AIFeature.objects.select_for_update().get(pk=feature.pk)
        before = feature_snapshot(locked)
        previous_team = locked.team
        new_team = fields.get("team")
        if new_team is not None and new_team.pk != previous_team.pk and not can_create_feature_for(actor, new_team):
            raise PermissionDenied(f"You cannot hand this feature to {new_team}: you are not a member of it.")
        new_status = fields.get("status", locked.status)
        if new_status != locked.status and new_status not in FEATURE_TRANSITIONS[locked.status]:
            allowed = " or ".join(sorted(FEATURE_TRANSITIONS[locked.status])) or "nothing else"
            raise ValidationError(
                {"status": f"The feature is {locked.get_status_display().lower()}: it can become {allowed}, not {new_status}."}
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean()
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
        if diff:
            feature_updated.send(sender=AIFeature, feature=locked, actor=actor)
            audit_record(
                actor=actor,
                action="feature.updated",
                target=locked,
                feature=locked,
                payload={"changes": diff, "reason": reason.strip()},
            )
    return locked
