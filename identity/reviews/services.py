"""Every write of access reviews: start a campaign, decide an item, remind and escalate, close, export.

Each checks its permission and separation of duties, locks what it changes and writes its audit event in
the same transaction (``access_review.started``, ``access_review.item_confirmed``,
``access_review.item_revoked``, ``access_review.escalated``, ``access_review.closed``,
``access_review.exported``). A revocation goes through the registry's own ``role_revoke`` or
``team_member_remove`` with ``review=``: the registry records ``role.revoked`` or ``team.member_removed``
naming the reviewer and the campaign, and its listeners withdraw what the change leaves standing (a
sign-off its signer may no longer give), all in the decision's transaction.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from core.error_codes import ALREADY_DECIDED, INVALID_TRANSITION
from core.exceptions import Conflict, Refused
from core.locks import lock_name
from identity.choices import ReviewDecision, ReviewItemKind, ReviewStatus
from identity.models import AccessReview, AccessReviewItem
from identity.reviews import export
from identity.reviews.permissions import EXPORTERS, STARTERS, can_export_reviews, can_run_reviews, decide_refusal
from identity.reviews.selectors import planned_items, still_held
from registry.choices import Role
from registry.selectors import role_holders
from registry.services import audit_record, notify, role_revoke, team_member_remove

LONGEST_CAMPAIGN = timedelta(days=366)
NOTE_LENGTH = 500
DECISIONS = {"confirm": ReviewDecision.CONFIRMED, "revoke": ReviewDecision.REVOKED}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def item_label(item: AccessReviewItem) -> str:
    """“the Security reviewer role” or “the Claims team”."""
    if item.kind == ReviewItemKind.ROLE:
        return f"the {Role(item.role).label} role"
    return f"the {item.team.name} team"


# --- Starting a campaign -------------------------------------------------------------------------


def access_review_start(*, actor, name: str, due_at: datetime | None) -> AccessReview:
    """Start a campaign: snapshot every role grant and team membership of active people, assign reviewers
    and tell them. Only one campaign is open at a time."""
    if not can_run_reviews(actor):
        raise PermissionDenied(STARTERS)
    name = (name or "").strip()
    now = timezone.now()
    errors = {}
    if not name:
        errors["name"] = "Name the campaign, e.g. “2026 Q4 access review”."
    elif len(name) > 120:
        errors["name"] = "At most 120 characters."
    if not isinstance(due_at, datetime):
        errors["due_at"] = "Give the date the reviews are due."
    elif due_at <= now:
        errors["due_at"] = "The due date must be in the future."
    elif due_at > now + LONGEST_CAMPAIGN:
        errors["due_at"] = "A campaign runs a year at most."
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        lock_name("access-review", "open")
        current = AccessReview.objects.select_for_update().filter(status=ReviewStatus.OPEN).first()
        if current is not None:
            raise Conflict(
                f"“{current.name}” is still open (due {timezone.localtime(current.due_at):%d %b %Y}): "
                "close it before starting another.",
                code=INVALID_TRANSITION,
            )
        review = AccessReview.objects.create(name=name, started_by=actor, due_at=due_at)
        planned = planned_items()
        for item, _reviewers in planned:
            item.review = review
        items = AccessReviewItem.objects.bulk_create([item for item, _ in planned])
        links = AccessReviewItem.reviewers.through
        links.objects.bulk_create(
            links(accessreviewitem_id=item.pk, user_id=reviewer)
            for item, (_, reviewers) in zip(items, planned)
            for reviewer in sorted(reviewers)
        )
        assigned: dict[int, int] = defaultdict(int)
        for _item, reviewers in planned:
            for reviewer in reviewers:
                assigned[reviewer] += 1
        roles = sum(1 for item, _ in planned if item.kind == ReviewItemKind.ROLE)
        audit_record(
            actor=actor,
            action="access_review.started",
            target=review,
            payload={
                "name": name,
                "due_at": due_at.isoformat(),
                "items": len(planned),
                "role_grants": roles,
                "team_memberships": len(planned) - roles,
                "reviewers": len(assigned),
                "without_reviewer": sum(1 for _, reviewers in planned if not reviewers),
            },
        )
        url = reverse("identity:review_detail", args=[review.pk])
        due = f"{timezone.localtime(due_at):%d %b %Y}"
        for reviewer in get_user_model().objects.filter(pk__in=list(assigned)):
            notify(
                users=[reviewer],
                subject=f"Access review: {_plural(assigned[reviewer.pk], 'item')} to review by {due}",
                body=f"Governance started “{name}”. Confirm or revoke each role grant and team membership put "
                "to you; unanswered items are escalated to governance after the due date.",
                url=url,
                key=f"access-review-started:{review.pk}",
            )
    return review


# --- Deciding an item ----------------------------------------------------------------------------


def access_review_item_decide(*, actor, item: AccessReviewItem, decision: str, note: str = "") -> AccessReviewItem:
    """Confirm or revoke one item (a note is required to revoke). Revoking removes the role or the team
    membership at once, every source of it, through the registry's services."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": "Choose confirm or revoke."})
    note = (note or "").strip()
    if len(note) > NOTE_LENGTH:
        raise ValidationError({"note": f"At most {NOTE_LENGTH} characters."})
    if decision == "revoke" and not note:
        raise ValidationError(
            {"note": "Say why you revoke it: the note is kept with the decision and in the audit trail."}
        )
    with transaction.atomic():
        locked = (
            AccessReviewItem.objects.select_for_update(of=("self",))
            .select_related("review", "user", "team", "decided_by")
            .get(pk=item.pk)
        )
        review = locked.review
        if review.status != ReviewStatus.OPEN:
            raise Conflict("This campaign is closed: its items take no more decisions.", code=INVALID_TRANSITION)
        if locked.decision != ReviewDecision.PENDING:
            who = locked.decided_by.get_username() if locked.decided_by else "governance"
            when = f" on {timezone.localtime(locked.decided_at):%d %b %Y}" if locked.decided_at else ""
            raise Conflict(f"Already {locked.get_decision_display().lower()} by {who}{when}.", code=ALREADY_DECIDED)
        refusal = decide_refusal(actor, locked)
        if refusal:
            raise Refused(str(refusal), code=refusal.code)
        person = locked.user.get_username()
        removed = False
        if decision == "confirm":
            if not still_held(locked):
                raise Conflict(
                    f"{person} no longer holds {item_label(locked)} (it changed since the campaign started): nothing "
                    "to confirm. Revoke records that it is gone.",
                    code=INVALID_TRANSITION,
                )
        else:
            reason = f"Access review “{review.name}”: {note}"
            reference = {"review": review.pk, "item": locked.pk, "name": review.name}
            if locked.kind == ReviewItemKind.ROLE:
                removed = role_revoke(actor=actor, user=locked.user, role=locked.role, reason=reason, review=reference)
            else:
                removed = team_member_remove(
                    actor=actor, team=locked.team, user=locked.user, reason=reason, review=reference
                )
        locked.decision = DECISIONS[decision]
        locked.decided_by = actor
        locked.decided_at = timezone.now()
        locked.note = note
        locked.save(update_fields=["decision", "decided_by", "decided_at", "note"])
        audit_record(
            actor=actor,
            action=f"access_review.item_{locked.decision}",
            target=locked,
            payload={
                "review": review.pk,
                "name": review.name,
                "user": person,
                "kind": locked.kind,
                "role": locked.role or None,
                "team": locked.team.slug if locked.team_id else None,
                "sources": locked.sources,
                "note": note,
                **({"removed": removed} if decision == "revoke" else {}),
                **({"escalated": True} if locked.escalated_at else {}),
            },
        )
    return locked


# --- Reminders and escalation --------------------------------------------------------------------


def access_review_reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Daily: remind each reviewer of their items still pending in the last ``ACCESS_REVIEW_REMIND_DAYS``
    before the due date (one notice a day, each item counted once a day), and escalate items past due to
    governance (once each: ``escalated_at``; governance admins may then decide them)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_began = timezone.make_aware(datetime(today.year, today.month, today.day))
    remind_before = timedelta(days=settings.ACCESS_REVIEW_REMIND_DAYS)
    sent = {"reminded": 0, "escalated": 0}
    for review_id in AccessReview.objects.filter(status=ReviewStatus.OPEN).values_list("pk", flat=True):
        with transaction.atomic():
            review = AccessReview.objects.select_for_update().get(pk=review_id)
            if review.status != ReviewStatus.OPEN:
                continue
            due = f"{timezone.localtime(review.due_at):%d %b %Y}"
            if now >= review.due_at - remind_before:
                sent["reminded"] += _remind(review, now=now, day_began=day_began, today=today, due=due)
            if now > review.due_at:
                sent["escalated"] += _escalate(review, now=now, today=today, due=due)
    return sent


def _remind(review: AccessReview, *, now, day_began, today, due: str) -> int:
    waiting = review.items.filter(decision=ReviewDecision.PENDING).filter(
        Q(reminded_at__isnull=True) | Q(reminded_at__lt=day_began)
    )
    item_ids = list(waiting.values_list("pk", flat=True))
    if not item_ids:
        return 0
    links = AccessReviewItem.reviewers.through
    per_reviewer = dict(
        links.objects.filter(accessreviewitem_id__in=item_ids)
        .values("user_id")
        .annotate(items=Count("accessreviewitem_id"))
        .values_list("user_id", "items")
    )
    overdue = now > review.due_at
    reminded = 0
    for reviewer in get_user_model().objects.filter(pk__in=list(per_reviewer), is_active=True):
        count = per_reviewer[reviewer.pk]
        reminded += len(
            notify(
                users=[reviewer],
                subject=f"Reminder: {_plural(count, 'access review item')} waiting for you"
                + (" (overdue)" if overdue else f", due {due}"),
                body=f"“{review.name}” is due {due}. Confirm or revoke each item on your access review queue"
                + ("; governance has been told the campaign is overdue." if overdue else "."),
                url=reverse("identity:review_list"),
                key=f"access-review-reminder:{review.pk}:{today:%Y-%m-%d}",
            )
        )
    AccessReviewItem.objects.filter(pk__in=item_ids).update(reminded_at=now)
    return reminded


def _escalate(review: AccessReview, *, now, today, due: str) -> int:
    late = review.items.filter(decision=ReviewDecision.PENDING, escalated_at__isnull=True)
    item_ids = list(late.values_list("pk", flat=True))
    if not item_ids:
        return 0
    AccessReviewItem.objects.filter(pk__in=item_ids).update(escalated_at=now)
    audit_record(
        actor=None,
        action="access_review.escalated",
        target=review,
        payload={"name": review.name, "items": len(item_ids), "due_at": review.due_at.isoformat()},
    )
    notify(
        users=role_holders(Role.GOVERNANCE),
        subject=f"Access review overdue: {_plural(len(item_ids), 'item')} escalated to governance",
        body=f"“{review.name}” was due {due} and {_plural(len(item_ids), 'item')} still await review. Any governance "
        "admin may now decide them (never their own), or close the campaign and record them as not reviewed.",
        url=reverse("identity:review_detail", args=[review.pk]),
        key=f"access-review-escalated:{review.pk}:{today:%Y-%m-%d}",
    )
    return len(item_ids)


# --- Closing ------------------------------------------------------------------------------------


def access_review_close(*, actor, review: AccessReview, close_anyway: bool = False) -> AccessReview:
    """Close the campaign. Items still pending block it unless ``close_anyway``: then they are recorded as
    not reviewed (and show so in the export)."""
    if not can_run_reviews(actor):
        raise PermissionDenied(STARTERS)
    with transaction.atomic():
        locked = AccessReview.objects.select_for_update().get(pk=review.pk)
        if locked.status != ReviewStatus.OPEN:
            raise Conflict("This campaign is closed already.", code=INVALID_TRANSITION)
        pending = locked.items.filter(decision=ReviewDecision.PENDING)
        waiting = pending.count()
        if waiting and not close_anyway:
            raise Conflict(
                f"{_plural(waiting, 'item')} still {'awaits' if waiting == 1 else 'await'} review. Wait for the "
                "reviewers, or close anyway to record them as not reviewed.",
                code=INVALID_TRANSITION,
            )
        pending.update(decision=ReviewDecision.NOT_REVIEWED)
        locked.status = ReviewStatus.CLOSED
        locked.closed_by = actor
        locked.closed_at = timezone.now()
        locked.save(update_fields=["status", "closed_by", "closed_at"])
        counts = dict(locked.items.values("decision").annotate(n=Count("pk")).values_list("decision", "n"))
        audit_record(
            actor=actor,
            action="access_review.closed",
            target=locked,
            payload={
                "name": locked.name,
                "confirmed": counts.get(ReviewDecision.CONFIRMED, 0),
                "revoked": counts.get(ReviewDecision.REVOKED, 0),
                "not_reviewed": counts.get(ReviewDecision.NOT_REVIEWED, 0),
                "closed_anyway": bool(waiting),
            },
        )
    return locked


# --- Export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewExport:
    data: bytes
    filename: str
    content_type: str
    sha256: str


def access_review_export(*, actor, review: AccessReview, file_format: str) -> ReviewExport:
    """The closed campaign as CSV or PDF, for auditors; each export is audited with the file's SHA-256."""
    if not can_export_reviews(actor):
        raise PermissionDenied(EXPORTERS)
    if file_format not in export.CONTENT_TYPES:
        raise ValidationError({"format": f"Choose one of: {', '.join(export.CONTENT_TYPES)}."})
    review = AccessReview.objects.select_related("started_by", "closed_by").get(pk=review.pk)
    if review.status != ReviewStatus.CLOSED:
        raise Conflict(
            "Export the campaign once it is closed: until then its items may still change.", code=INVALID_TRANSITION
        )
    data = export.render(review, file_format, generated_by=actor)
    digest = hashlib.sha256(data).hexdigest()
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="access_review.exported",
            target=review,
            payload={"name": review.name, "format": file_format, "sha256": digest, "size": len(data)},
        )
    filename = f"access-review-{review.pk}-{slugify(review.name)[:60] or 'campaign'}.{file_format}"
    return ReviewExport(data=data, filename=filename, content_type=export.CONTENT_TYPES[file_format], sha256=digest)
