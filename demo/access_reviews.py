"""The demo's access reviews, for ``seed_demo``: last quarter's campaign, closed (most items confirmed, a
contractor's role and a finished pilot's team membership revoked, two items never reviewed and recorded
so), and this quarter's, open, with a few decisions made, so *Access reviews* shows both a queue and the
evidence an auditor downloads. Made once: nothing is planned when a campaign exists already.

Each step runs at its moment through the demo's clock, through the identity app's services: the grants the
first campaign revokes are made weeks before it, the reminders and the escalation run as the daily task
would, and the audit trail has it all in time order.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from identity.choices import ReviewDecision, ReviewItemKind
from identity.models import AccessReview
from identity.reviews.forms import end_of_day
from identity.reviews.services import (
    access_review_close,
    access_review_item_decide,
    access_review_reminders_send,
    access_review_start,
)
from registry.choices import Role
from registry.models import Team
from registry.services import role_grant, team_member_add

CONTRACTOR, PILOT = ("outsider", Role.SUPPORT), ("support", "customer-care")
REVOKED_NOTES = {
    CONTRACTOR: "Contract ended on 31 October; the chatbot launch no longer needs him.",
    PILOT: "The drafting pilot ended: support reviews chatbot replies from the support queue now.",
}


def _user(username):
    return get_user_model().objects.get(username=username)


def quarter_name(day) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1} access review"


def _decide_all(review_id: int, reviewer: str, *, kind=None, keep_pending=()) -> None:
    """``reviewer`` decides every pending item put to them (confirms, or revokes the planned ones)."""
    actor = _user(reviewer)
    review = AccessReview.objects.get(pk=review_id)
    items = review.items.filter(decision=ReviewDecision.PENDING, reviewers=actor).select_related("user", "team")
    if kind:
        items = items.filter(kind=kind)
    for item in items.order_by("user__username", "role", "team__slug"):
        key = (item.user.username, item.role or item.team.slug)
        if key in keep_pending or item.user_id == actor.pk:
            continue
        if key in REVOKED_NOTES:
            access_review_item_decide(actor=actor, item=item, decision="revoke", note=REVOKED_NOTES[key])
        else:
            access_review_item_decide(actor=actor, item=item, decision="confirm")


def _decide_some(review_id: int, reviewer: str, count: int) -> None:
    actor = _user(reviewer)
    review = AccessReview.objects.get(pk=review_id)
    items = review.items.filter(decision=ReviewDecision.PENDING, reviewers=actor, kind=ReviewItemKind.ROLE)
    for item in items.order_by("user__username")[:count]:
        access_review_item_decide(actor=actor, item=item, decision="confirm", note="Still needed for the role.")


def plan_access_reviews(agenda, clock, *, created: Counter) -> None:
    if AccessReview.objects.exists():
        return
    state: dict[str, int] = {}

    def temporary_grants():
        governance = _user("governance")
        role_grant(
            actor=governance,
            user=_user(CONTRACTOR[0]),
            role=CONTRACTOR[1],
            reason="Contractor answering escalated chatbot conversations during the launch.",
        )
        team_member_add(
            actor=governance,
            team=Team.objects.get(slug=PILOT[1]),
            user=_user(PILOT[0]),
            reason="Pilot: support agents review the chatbot's draft replies.",
        )

    def start_last_quarter():
        review = access_review_start(
            actor=_user("governance"),
            name=quarter_name(timezone.localdate() - timedelta(days=45)),
            due_at=end_of_day(timezone.localdate(clock.workday(10))),
        )
        state["closed"] = review.pk
        created["access reviews"] += 1

    def start_this_quarter():
        review = access_review_start(
            actor=_user("governance"),
            name=quarter_name(timezone.localdate(clock.real_now)),
            due_at=end_of_day(timezone.localdate(clock.real_now) + timedelta(days=11)),
        )
        state["open"] = review.pk
        created["access reviews"] += 1

    def remind():
        access_review_reminders_send(now=timezone.now())

    def close_last_quarter():
        access_review_close(
            actor=_user("governance"), review=AccessReview.objects.get(pk=state["closed"]), close_anyway=True
        )

    closed = lambda step: lambda: step(state["closed"])  # noqa: E731
    opened = lambda step: lambda: step(state["open"])  # noqa: E731
    steps = [
        (clock.workday(35, "10:20"), temporary_grants),
        (clock.workday(20, "09:30"), start_last_quarter),
        (clock.workday(19, "10:05"), closed(lambda pk: _decide_all(pk, "governance", kind=ReviewItemKind.ROLE))),
        (clock.workday(17, "14:10"), closed(lambda pk: _decide_all(pk, "product"))),
        (clock.workday(16, "11:40"), closed(lambda pk: _decide_all(pk, "product2"))),
        # product3 never answers: ml3's Developer Platform membership is escalated, then not reviewed
        (clock.workday(15, "09:50"), closed(lambda pk: _decide_all(pk, "governance", kind=ReviewItemKind.TEAM))),
        (clock.workday(12, "07:45"), remind),
        (clock.workday(13, "15:25"), closed(lambda pk: _decide_all(pk, "product4"))),
        (clock.workday(11, "07:45"), remind),
        (clock.workday(9, "07:45"), remind),  # past due: what is left is escalated to governance
        (clock.workday(9, "16:10"), close_last_quarter),
        (clock.workday(3, "09:15"), start_this_quarter),
        (clock.workday(2, "10:30"), opened(lambda pk: _decide_some(pk, "governance", 6))),
        (clock.workday(1, "14:45"), opened(lambda pk: _decide_all(pk, "product2"))),
    ]
    for moment, step in steps:
        agenda.add(moment, step)
