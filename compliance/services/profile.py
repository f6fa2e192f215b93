"""The write path of regulatory profiles: owners propose, governance confirms; both audited.

A proposal changes nothing the rules look at: until governance confirms it, the last confirmed category
stays in force (``RegulatoryProfile.in_force``), so lowering a feature's category cannot skip a rule.
Confirming a high-risk category raises the feature to the regulated risk tier (through the registry's
own feature service), so the regulated gate applies.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.choices import (
    AnnexIIIArea,
    Category,
    HighRiskBasis,
    ProfileStatus,
    Role,
    TransparencyDuty,
)
from compliance.models import RegulatoryProfile
from compliance.permissions import can_confirm_profile, can_propose_profile
from core.error_codes import SEPARATION_OF_DUTIES
from core.exceptions import Conflict, Refused
from registry.choices import RiskTier
from registry.choices import Role as PersonRole
from registry.models import AIFeature, Region
from registry.selectors import role_holders
from registry.services import audit_record, feature_update, feature_update_needs_governance, notify
from registry.signals import feature_updated

PROFILE_FIELDS = (
    "category",
    "high_risk_basis",
    "annex_iii_area",
    "annex_i_product",
    "transparency_duties",
    "role",
    "rationale",
    "conformity_reference",
    "retention_years",
)


def profile_snapshot(profile: RegulatoryProfile | None) -> dict:
    if profile is None or profile.pk is None:
        return {}
    return {
        **{name: getattr(profile, name) for name in PROFILE_FIELDS},
        "markets": sorted(region.code for region in profile.markets.all()),
        "status": profile.status,
        "confirmed_category": profile.confirmed_category,
    }


def _clean(fields: dict, markets: list[Region]) -> dict:
    """Check a proposal's fields hang together; returns them normalised. Errors name their field."""
    errors: dict[str, str] = {}
    category = fields.get("category", Category.UNDETERMINED)
    if category not in Category.values:
        errors["category"] = f"Choose one of: {', '.join(Category.values)}."
    role = fields.get("role", Role.PROVIDER)
    if role not in Role.values:
        errors["role"] = f"Choose one of: {', '.join(Role.values)}."
    basis = fields.get("high_risk_basis", "") or ""
    area = fields.get("annex_iii_area", "") or ""
    product = (fields.get("annex_i_product", "") or "").strip()
    duties = sorted(set(fields.get("transparency_duties") or []))
    if category == Category.HIGH_RISK:
        if basis not in HighRiskBasis.values:
            errors["high_risk_basis"] = "Say why it is high-risk: an Annex III use or an Annex I product."
        elif basis == HighRiskBasis.ANNEX_III and area not in AnnexIIIArea.values:
            errors["annex_iii_area"] = "Choose the Annex III area it falls in."
        elif basis == HighRiskBasis.ANNEX_I and not product:
            errors["annex_i_product"] = "Name the product law it is a safety component under."
    else:
        basis, area, product = "", "", ""
    unknown = set(duties) - set(TransparencyDuty.values)
    if unknown:
        errors["transparency_duties"] = f"Unknown duties: {', '.join(sorted(unknown))}."
    if category == Category.LIMITED and not duties:
        errors["transparency_duties"] = "A limited-risk feature has at least one transparency duty: tick it."
    if basis == HighRiskBasis.ANNEX_III:
        product = ""
    if basis == HighRiskBasis.ANNEX_I:
        area = ""
    rationale = (fields.get("rationale") or "").strip()
    if not rationale:
        errors["rationale"] = "Say why this category: the use, who is affected, what it decides."
    try:
        retention = int(fields.get("retention_years") or 10)
    except (TypeError, ValueError):
        retention = 0
    if retention < 10 or retention > 50:
        errors["retention_years"] = "Keep the technical file for 10 to 50 years."
    if category not in (Category.UNDETERMINED, Category.PROHIBITED) and not markets:
        errors["markets"] = "Name at least one market it serves."
    if errors:
        raise ValidationError(errors)
    return {
        "category": category,
        "high_risk_basis": basis,
        "annex_iii_area": area,
        "annex_i_product": product[:200],
        "transparency_duties": duties,
        "role": role,
        "rationale": rationale,
        "conformity_reference": (fields.get("conformity_reference") or "").strip()[:200],
        "retention_years": retention,
    }


def profile_propose(
    *, actor, feature: AIFeature, markets: Iterable[Region] = (), confirm: bool = False, **fields
) -> RegulatoryProfile:
    """Propose (or change) ``feature``'s regulatory profile. Governance may confirm it in the same step
    (``confirm=True``); anyone else's proposal waits for governance, who is told."""
    if not can_propose_profile(actor, feature):
        raise PermissionDenied("Only the feature's team and governance propose its regulatory profile.")
    if confirm:
        _require_confirmer(actor, feature)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"These fields cannot be set: {', '.join(sorted(unknown))}")
    markets = list(markets)
    cleaned = _clean(fields, markets)
    with transaction.atomic():
        AIFeature.objects.select_for_update().filter(pk=feature.pk).first()
        profile = RegulatoryProfile.objects.select_for_update().filter(feature=feature).first()
        before = profile_snapshot(profile)
        now = timezone.now()
        if profile is None:
            profile = RegulatoryProfile(feature=feature)
        for name, value in cleaned.items():
            setattr(profile, name, value)
        profile.status = ProfileStatus.PROPOSED
        profile.proposed_by = actor
        profile.proposed_at = now
        profile.save()
        profile.markets.set(markets)
        audit_record(
            actor=actor,
            action="compliance.profile_proposed",
            target=profile,
            feature=feature,
            payload={"old": before, "new": profile_snapshot(profile)},
        )
        if confirm:
            return _confirm(actor, feature, profile)
        notify(
            users=role_holders(PersonRole.GOVERNANCE, exclude=[actor.pk]),
            subject=f"Regulatory profile of {feature.name} to confirm: {profile.get_category_display()}",
            body=f"{actor.get_username()} proposed it. Until it is confirmed, the category in force stays "
            f"{Category(profile.in_force).label}.",
            url=profile.get_absolute_url(),
            key=f"profile-proposed:{profile.pk}:{now.isoformat()}",
        )
    return profile


def _require_confirmer(actor, feature: AIFeature) -> None:
    """Governance confirms; a governance admin of the owning team would judge their own team's feature, so
    another one confirms (separation of duties, as for a feature's weakening changes)."""
    if not can_confirm_profile(actor, feature):
        raise PermissionDenied("Only governance confirms a regulatory profile.")
    if feature_update_needs_governance(actor, feature):
        raise Refused(
            f"You belong to {feature.team}, which owns {feature}: another governance admin confirms its profile.",
            code=SEPARATION_OF_DUTIES,
        )


def profile_confirm(*, actor, feature: AIFeature, reason: str = "") -> RegulatoryProfile:
    """Governance confirms the proposed profile: its category's rules apply from now."""
    _require_confirmer(actor, feature)
    with transaction.atomic():
        profile = RegulatoryProfile.objects.select_for_update().filter(feature=feature).first()
        if profile is None:
            raise Conflict(f"{feature} has no regulatory profile to confirm yet.")
        if profile.confirmed:
            raise Conflict(f"The regulatory profile of {feature} is already confirmed.")
        return _confirm(actor, feature, profile, reason=reason)


def _confirm(actor, feature: AIFeature, profile: RegulatoryProfile, *, reason: str = "") -> RegulatoryProfile:
    previous = profile.confirmed_category
    profile.status = ProfileStatus.CONFIRMED
    profile.confirmed_category = profile.category
    profile.confirmed_by = actor
    profile.confirmed_at = timezone.now()
    profile.save(update_fields=["status", "confirmed_category", "confirmed_by", "confirmed_at"])
    audit_record(
        actor=actor,
        action="compliance.profile_confirmed",
        target=profile,
        feature=feature,
        payload={
            "old": {"category": previous},
            "new": {"category": profile.category},
            "reason": reason.strip(),
        },
    )
    if profile.category == Category.HIGH_RISK and feature.risk_tier != RiskTier.REGULATED:
        feature_update(
            actor=actor,
            feature=feature,
            reason="Confirmed high-risk under the EU AI Act: the regulated gate applies.",
            risk_tier=RiskTier.REGULATED,
        )
    feature_updated.send(sender=RegulatoryProfile, feature=feature, actor=actor)  # gate requests look again
    notify(
        users=[feature.accountable_owner, profile.proposed_by],
        subject=f"Regulatory profile of {feature.name} confirmed: {profile.get_category_display()}",
        body=reason.strip(),
        url=profile.get_absolute_url(),
        key=f"profile-confirmed:{profile.pk}:{profile.confirmed_at.isoformat()}",
    )
    return profile
