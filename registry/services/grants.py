"""Reviewer grants: governance brings one named person into one restricted feature, for a reason and a period.

Lock order: the feature row, then the grant rows, then (last) the audit chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from registry.models import AIFeature, ReviewerGrant
from registry.permissions import is_governance, sees_everything
from registry.services.audit import audit_record
from registry.services.notifications import notify


def _max_days() -> int:
    return int(getattr(settings, "REVIEWER_GRANT_MAX_DAYS", 90))


def reviewer_grant_create(*, actor, feature: AIFeature, user, reason: str, expires_at: datetime) -> ReviewerGrant:
    """Let ``user`` see the restricted ``feature`` (and so review and sign its requests) until ``expires_at``."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins grant reviewers access to a restricted feature.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why this person needs to see the feature."})
    now = timezone.now()
    if expires_at <= now:
        raise ValidationError({"expires_at": "Choose an expiry in the future."})
    if expires_at > now + timedelta(days=_max_days()):
        raise ValidationError({"expires_at": f"A grant lasts at most {_max_days()} days; grant again when it ends."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.get_username()} is deactivated."})
    if sees_everything(user):
        raise ValidationError({"user": f"{user.get_username()} already sees every feature."})
    from registry.selectors import may_see_feature

    with transaction.atomic():
        locked = AIFeature.objects.select_for_update().get(pk=feature.pk)
        if not locked.restricted:
            raise ValidationError({"user": f"{locked} is not restricted: everyone signed in may already see it."})
        if ReviewerGrant.objects.active(now=now).filter(feature=locked, user=user).exists():
            raise ValidationError({"user": f"{user.get_username()} already has a reviewer grant on {locked}."})
        if may_see_feature(user, locked):
            raise ValidationError({"user": f"{user.get_username()} already sees {locked} through their team."})
        # A grant past its expiry that the sweep has not recorded yet ends now, so the new one can open.
        ReviewerGrant.objects.filter(feature=locked, user=user, ended_at__isnull=True).update(
            ended_at=now, end_reason="Expired."
        )
        grant = ReviewerGrant.objects.create(
            feature=locked, user=user, reason=reason, granted_by=actor, expires_at=expires_at
        )
        notify(
            users=[user],
            subject=f"You may now review {locked}",
            body=f"{actor.get_full_name() or actor.get_username()} gave you access until "
            f"{expires_at.astimezone(UTC):%d %b %Y %H:%M} UTC: {reason}",
            url=locked.get_absolute_url(),
            key=f"reviewer-grant:{grant.pk}",
        )
        audit_record(
            actor=actor,
            action="reviewer_grant.created",
            target=grant,
            feature=locked,
            payload={"user": user.get_username(), "expires_at": expires_at, "reason": reason},
        )
    return grant


def reviewer_grant_revoke(*, actor, grant: ReviewerGrant, reason: str) -> ReviewerGrant:
    """End a grant now. The person no longer sees the feature from their next request."""
    if not is_governance(actor):
        raise PermissionDenied("Only governance admins revoke reviewer grants.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the grant ends."})
    with transaction.atomic():
        AIFeature.objects.select_for_update().filter(pk=grant.feature_id).first()
        locked = ReviewerGrant.objects.select_for_update().select_related("feature", "user").get(pk=grant.pk)
        if not locked.is_active():
            raise Conflict(f"The grant for {locked.user.get_username()} has already ended.")
        locked.ended_at = timezone.now()
        locked.ended_by = actor
        locked.end_reason = reason
        locked.save(update_fields=["ended_at", "ended_by", "end_reason"])
        audit_record(
            actor=actor,
            action="reviewer_grant.revoked",
            target=locked,
            feature=locked.feature,
            payload={"user": locked.user.get_username(), "reason": reason},
        )
    return locked


def reviewer_grants_expire(*, now=None) -> int:
    """Record the end of grants past their expiry (a scheduled task calls this). Access already ended at the
    expiry, since every read checks it; this keeps the trail and renews cached answers."""
    now = now or timezone.now()
    ended = 0
    for grant_id in ReviewerGrant.objects.filter(ended_at__isnull=True, expires_at__lte=now).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            grant = (
                ReviewerGrant.objects.select_for_update(of=("self",))
                .select_related("feature", "user")
                .filter(pk=grant_id, ended_at__isnull=True)
                .first()
            )
            if grant is None:
                continue  # revoked meanwhile, or another worker got there first
            grant.ended_at = grant.expires_at
            grant.end_reason = "Expired."
            grant.save(update_fields=["ended_at", "end_reason"])
            audit_record(
                actor=None,
                action="reviewer_grant.expired",
                target=grant,
                feature=grant.feature,
                payload={"user": grant.user.get_username(), "expires_at": grant.expires_at},
            )
            ended += 1
    return ended
