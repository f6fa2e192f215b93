"""Reminders and escalation: the daily task reminds reviewers of pending items in the last days before the
due date, once a day, and escalates what is still pending after it to governance, once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from identity.choices import ReviewDecision
from identity.reviews.services import access_review_item_decide, access_review_reminders_send
from identity.tasks import access_review_reminders
from registry.models import AuditEvent, Notification
from tests.identity.reviews_helpers import item_of, org, second_governance_admin, start  # noqa: F401

pytestmark = pytest.mark.django_db


def reminders_to(user):
    return Notification.objects.filter(user=user, key__startswith="access-review-reminder:")


def test_reviewers_are_reminded_once_a_day_in_the_last_days_before_the_due_date(
    org, team, ml_engineer, product_owner, governance_admin, second_governance_admin, settings
):
    settings.ACCESS_REVIEW_REMIND_DAYS = 3
    review = start(governance_admin, days=10)
    due = review.due_at

    assert access_review_reminders_send(now=due - timedelta(days=5)) == {"reminded": 0, "escalated": 0}
    assert not reminders_to(product_owner).exists()

    # two runs on one calendar day, whatever the time of day the campaign is due at
    morning = timezone.localtime(due - timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    first = access_review_reminders_send(now=morning)
    again = access_review_reminders_send(now=morning + timedelta(hours=2))  # the same day

    assert first["reminded"] == 3 and again["reminded"] == 0  # Pat and both governance admins, once
    notice = reminders_to(product_owner).get()
    assert notice.subject == f"Reminder: 1 access review item waiting for you, due {timezone.localtime(due):%d %b %Y}"
    assert notice.url == "/access-reviews/"
    assert reminders_to(governance_admin).get().subject.startswith("Reminder: 8 access review items")
    assert all(item.reminded_at for item in review.items.all())

    # decided items are not reminded; the next day the rest are, once more
    access_review_item_decide(actor=product_owner, item=item_of(review, ml_engineer, team=team), decision="confirm")
    next_day = access_review_reminders_send(now=morning + timedelta(days=1))
    assert next_day["reminded"] == 2
    assert reminders_to(product_owner).count() == 1


def test_items_still_pending_after_the_due_date_are_escalated_to_governance_once(
    org, team, ml_engineer, product_owner, governance_admin, second_governance_admin
):
    review = start(governance_admin, days=7)
    access_review_item_decide(
        actor=governance_admin, item=item_of(review, product_owner, role="product"), decision="confirm"
    )
    after = review.due_at + timedelta(hours=2)

    sent = access_review_reminders_send(now=after)
    twice = access_review_reminders_send(now=after + timedelta(minutes=5))

    assert sent["escalated"] == 9 and twice["escalated"] == 0
    assert review.items.filter(escalated_at=after).count() == 9
    assert review.items.get(decision=ReviewDecision.CONFIRMED).escalated_at is None
    told = Notification.objects.filter(key__startswith=f"access-review-escalated:{review.pk}:")
    assert {notice.user.username for notice in told} == {"gia-governance", "gus-governance"}
    assert told.first().subject == "Access review overdue: 9 items escalated to governance"
    event = AuditEvent.objects.get(action="access_review.escalated")
    assert event.actor is None and event.payload["items"] == 9
    # the owner's reminder says the campaign is overdue
    assert "(overdue)" in reminders_to(product_owner).get().subject


def test_the_celery_task_runs_the_reminders(org, governance_admin, second_governance_admin, product_owner):
    review = start(governance_admin, days=1)

    result = access_review_reminders()

    assert result == {"reminded": 3, "escalated": 0}
    assert reminders_to(product_owner).exists() and review.items.filter(reminded_at__isnull=False).exists()


def test_a_closed_campaign_is_neither_reminded_nor_escalated(governance_admin, second_governance_admin):
    from identity.reviews.services import access_review_close

    review = start(governance_admin, days=1)
    access_review_close(actor=governance_admin, review=review, close_anyway=True)

    assert access_review_reminders_send(now=review.due_at + timedelta(days=1)) == {"reminded": 0, "escalated": 0}
