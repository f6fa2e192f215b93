"""Every write of a feature's monitoring plan: making or changing it, and recording its review.

The feature's team and governance admins make and change the plan; the reviewer it names (a person, or
anyone holding a role who may see the feature) records reviews. Each write takes the sweep lock first
(the plan's findings are judged again in the same transaction, so the feature page says what the sweep
will say), then the plan, and records its audit event last.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from freshness.models import MonitoringEvaluation, MonitoringPlan, MonitoringReview
from freshness.services import lock_findings, plan_findings_reconcile
from registry.choices import EvaluationKind, Role
from registry.models import AIFeature
from registry.permissions import can_edit_feature, has_role, is_governance, sees_everything
from registry.selectors import features_visible_to
from registry.services import audit_record_many
from registry.services.audit import changes
from registry.signals import feature_updated

MAX_INTERVAL_DAYS = 730
NOTE_LENGTH = 5000
# Auditors oversee and change nothing: they cannot be the plan's reviewer.
REVIEWER_ROLES = [(value, label) for value, label in Role.choices if value != Role.AUDITOR]


def can_edit_plan(user, feature: AIFeature) -> bool:
    """The feature's team and governance admins (as for the feature itself)."""
    return can_edit_feature(user, feature)


def can_record_review(user, plan: MonitoringPlan | None) -> bool:
    """The plan's reviewer: the person it names, or anyone holding the role it names, who may see the feature."""
    if plan is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if plan.reviewer_id is not None:
        allowed = user.pk == plan.reviewer_id
    else:
        allowed = bool(plan.reviewer_role) and (
            is_governance(user) if plan.reviewer_role == Role.GOVERNANCE else has_role(user, plan.reviewer_role)
        )
    if not allowed:
        return False
    return sees_everything(user) or features_visible_to(user).filter(pk=plan.feature_id).exists()


def plan_snapshot(plan: MonitoringPlan) -> dict:
    """The plan as the audit trail and the API state it."""
    return {
        "monitors": list(plan.monitors),
        "notes": plan.notes,
        "reviewer": plan.reviewer.get_username() if plan.reviewer_id else None,
        "reviewer_role": plan.reviewer_role or None,
        "review_interval_days": plan.review_interval_days,
        "evaluations": {rule.kind: rule.interval_days for rule in plan.evaluations.all()},
    }


def _interval(value, field: str, errors: dict) -> int | None:
    try:
        days = int(value)
    except (TypeError, ValueError):
        errors[field] = "Give a whole number of days."
        return None
    if isinstance(value, float) and not value.is_integer():
        errors[field] = "Give a whole number of days."
        return None
    if not 1 <= days <= MAX_INTERVAL_DAYS:
        errors[field] = f"Give between 1 and {MAX_INTERVAL_DAYS} days."
        return None
    return days


def _clean(*, feature: AIFeature, monitors, notes, reviewer, reviewer_role, review_interval_days, evaluations) -> dict:
    """The plan's fields, checked; raises ``ValidationError`` with every problem by field."""
    errors: dict[str, str] = {}
    known = feature.monitor_links
    monitors = [str(link).strip() for link in (monitors or []) if str(link).strip()]
    if not known:
        errors["monitors"] = (
            "The feature has no monitors yet: add the links to its dashboards and alerts on the feature first."
        )
    elif not monitors:
        errors["monitors"] = "Choose at least one of the feature's monitors."
    else:
        unknown = [link for link in monitors if link not in known]
        if unknown:
            errors["monitors"] = f"Not one of the feature's monitors: {', '.join(unknown)}."
    monitors = list(dict.fromkeys(monitors))
    notes = (notes or "").strip()
    if len(notes) > NOTE_LENGTH:
        errors["notes"] = f"At most {NOTE_LENGTH:,} characters."
    reviewer_role = (reviewer_role or "").strip()
    if (reviewer is None) == (not reviewer_role):
        errors["reviewer"] = "Name who reviews: a person or a role, not both."
    elif reviewer is not None:
        if not reviewer.is_active:
            errors["reviewer"] = f"{reviewer.get_username()} is deactivated."
        elif has_role(reviewer, Role.AUDITOR) and not is_governance(reviewer):
            errors["reviewer"] = f"{reviewer.get_username()} is an auditor: auditors oversee and record nothing."
        elif not features_visible_to(reviewer).filter(pk=feature.pk).exists():
            errors["reviewer"] = f"{reviewer.get_username()} may not see {feature}."
    elif reviewer_role not in dict(REVIEWER_ROLES):
        errors["reviewer_role"] = f"Choose one of: {', '.join(value for value, _ in REVIEWER_ROLES)}."
    review_days = _interval(review_interval_days, "review_interval_days", errors)
    rules: dict[str, int] = {}
    if not isinstance(evaluations, dict):
        errors["evaluations"] = "Give each evaluation kind with its interval in days."
    else:
        problems = []
        for kind, days in evaluations.items():
            if kind not in EvaluationKind.values:
                problems.append(f"{kind!r} is not an evaluation kind ({', '.join(EvaluationKind.values)})")
                continue
            found: dict[str, str] = {}
            interval = _interval(days, kind, found)
            if interval is None:
                problems.append(f"{EvaluationKind(kind).label}: {found[kind]}")
            else:
                rules[kind] = interval
        if problems:
            errors["evaluations"] = "; ".join(problems) + "."
    if errors:
        raise ValidationError(errors)
    return {
        "monitors": monitors,
        "notes": notes,
        "reviewer": reviewer,
        "reviewer_role": "" if reviewer is not None else reviewer_role,
        "review_interval_days": review_days,
        "evaluations": rules,
    }


def plan_save(
    *,
    actor,
    feature: AIFeature,
    reason: str,
    monitors,
    review_interval_days,
    evaluations: dict,
    notes: str = "",
    reviewer=None,
    reviewer_role: str = "",
    now=None,
) -> MonitoringPlan:
    """Make the feature's monitoring plan, or replace what it says. Audited (``monitoring_plan.created`` or
    ``monitoring_plan.updated``, old → new), and its findings judged again at once."""
    if not can_edit_plan(actor, feature):
        raise PermissionDenied(
            f"Only the {feature.team} team and governance admins may change {feature}'s monitoring plan."
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the plan is made or changed: auditors read it."})
    if reviewer is not None and not isinstance(reviewer, get_user_model()):
        raise ValueError("reviewer must be a user")
    cleaned = _clean(
        feature=feature,
        monitors=monitors,
        notes=notes,
        reviewer=reviewer,
        reviewer_role=reviewer_role,
        review_interval_days=review_interval_days,
        evaluations=evaluations,
    )
    rules = cleaned.pop("evaluations")
    with transaction.atomic():
        lock_findings()
        now = now or timezone.now()
        AIFeature.objects.select_for_update().filter(pk=feature.pk).exists()
        plan = MonitoringPlan.objects.select_for_update().filter(feature=feature).first()
        before = plan_snapshot(plan) if plan is not None else None
        if plan is None:
            plan = MonitoringPlan(feature=feature, created_at=now, created_by=actor)
        for name, value in cleaned.items():
            setattr(plan, name, value)
        plan.updated_at, plan.updated_by = now, actor
        plan.save()
        plan.evaluations.exclude(kind__in=list(rules)).delete()
        existing = {rule.kind: rule for rule in plan.evaluations.all()}
        for kind, days in rules.items():
            rule = existing.get(kind)
            if rule is None:
                MonitoringEvaluation.objects.create(plan=plan, kind=kind, interval_days=days)
            elif rule.interval_days != days:
                rule.interval_days = days
                rule.save(update_fields=["interval_days"])
        plan = MonitoringPlan.objects.select_related("reviewer").prefetch_related("evaluations").get(pk=plan.pk)
        after = plan_snapshot(plan)
        entries = [
            {
                "actor": actor,
                "action": "monitoring_plan.created" if before is None else "monitoring_plan.updated",
                "target": plan,
                "feature": feature,
                "payload": {
                    "reason": reason,
                    **({"new": after} if before is None else {"changes": changes(before, after)}),
                },
            }
        ]
        entries += plan_findings_reconcile(feature_ids=[feature.pk], actor=actor, trigger="monitoring_plan", now=now)
        audit_record_many(entries)
        # A high-risk feature's technical file may be complete now: gate requests waiting on it look again.
        feature_updated.send(sender=MonitoringPlan, feature=feature, actor=actor)
    return plan


def review_record(*, actor, plan: MonitoringPlan, note: str, now=None) -> MonitoringReview:
    """The reviewer records a review of what the monitoring shows: the next is due a review interval from
    now, and an overdue review's finding closes. Audited (``monitoring_plan.reviewed``)."""
    if not can_record_review(actor, plan):
        raise PermissionDenied(f"Only the plan's reviewer ({plan.reviewer_label}) records its reviews.")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": "Say what the monitoring showed and what, if anything, follows."})
    if len(note) > NOTE_LENGTH:
        raise ValidationError({"note": f"At most {NOTE_LENGTH:,} characters."})
    with transaction.atomic():
        lock_findings()
        now = now or timezone.now()
        locked = MonitoringPlan.objects.select_for_update().select_related("feature").get(pk=plan.pk)
        review = MonitoringReview.objects.create(plan=locked, reviewed_at=now, reviewed_by=actor, note=note)
        previous = locked.last_reviewed_at
        locked.last_reviewed_at = now
        locked.save(update_fields=["last_reviewed_at"])
        entries = [
            {
                "actor": actor,
                "action": "monitoring_plan.reviewed",
                "target": locked,
                "feature": locked.feature,
                "payload": {
                    "note": note,
                    "review": review.pk,
                    "previous_review": previous,
                    "next_due": locked.review_due_at,
                },
            }
        ]
        entries += plan_findings_reconcile(
            feature_ids=[locked.feature_id], actor=actor, trigger="monitoring_review", now=now
        )
        audit_record_many(entries)
    return review
