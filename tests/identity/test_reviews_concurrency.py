"""Access reviews under concurrent requests: one campaign opens however many start at once, an item is
decided once however many reviewers click at once, and the audit chain stays whole. Needs PostgreSQL."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.exceptions import Conflict
from identity.choices import ReviewDecision
from identity.models import AccessReview
from identity.reviews.services import access_review_item_decide, access_review_start
from registry.models import AuditEvent
from registry.services import audit_verify
from tests.concurrency import run_at_once
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def reload(user):
    return get_user_model().objects.get(pk=user.pk)


def test_campaigns_started_at_once_open_one(governance_admin, security_reviewer):
    admins = [governance_admin] + [UserFactory(username=f"gov-{index}", roles=["governance"]) for index in range(3)]

    outcomes = run_at_once(
        THREADS,
        lambda index: access_review_start(
            actor=reload(admins[index % len(admins)]), name=f"Review {index}", due_at=timezone.now() + timedelta(days=9)
        ),
    )

    started = [outcome for outcome in outcomes if isinstance(outcome, AccessReview)]
    assert len(started) == 1, outcomes
    assert all(isinstance(outcome, Conflict) for outcome in outcomes if outcome not in started), outcomes
    assert AccessReview.objects.count() == 1 and AuditEvent.objects.filter(action="access_review.started").count() == 1
    assert audit_verify().ok


def test_an_item_decided_at_once_by_its_reviewers_is_decided_once(governance_admin, security_reviewer):
    others = [UserFactory(username=f"gov-{index}", roles=["governance"]) for index in range(3)]
    review = access_review_start(actor=governance_admin, name="Q4", due_at=timezone.now() + timedelta(days=9))
    item = review.items.get(user=security_reviewer)
    deciders = [governance_admin, *others]

    outcomes = run_at_once(
        THREADS,
        lambda index: access_review_item_decide(
            actor=reload(deciders[index % len(deciders)]),
            item=item,
            decision="revoke" if index % 2 else "confirm",
            note="Checked.",
        ),
    )

    decided = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    assert len(decided) == 1, outcomes
    assert all(
        isinstance(outcome, Conflict) and outcome.code == "already_decided"
        for outcome in outcomes
        if outcome not in decided
    )
    item.refresh_from_db()
    assert item.decision in (ReviewDecision.CONFIRMED, ReviewDecision.REVOKED)
    assert AuditEvent.objects.filter(action__startswith="access_review.item_").count() == 1
    assert audit_verify().ok
