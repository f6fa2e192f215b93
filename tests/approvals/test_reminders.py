"""Sign-offs older than their gate's review SLA are chased once a day, only with people who may sign them,
and every notice is also emailed after the transaction that made it commits."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals.models import SignOff
from approvals.services import signoff_decide, signoff_reminders_send
from approvals.tasks import signoff_reminders
from registry.models import Notification
from registry.tasks import send_notification_emails
from tests.approvals.conftest import pending_signoff
from tests.factories import UserFactory


def reminded(signoff):
    return set(
        Notification.objects.filter(
            key__startswith=f"signoff-reminder:{signoff.request_id}:{signoff.role}:"
        ).values_list("user__username", flat=True)
    )


def age(request, hours):
    SignOff.objects.filter(request=request).update(created_at=timezone.now() - timedelta(hours=hours))


@pytest.fixture
def overdue(
    product_owner, other_product_owner, second_ml_engineer, security_reviewer, legal_reviewer, new_version, request_gate
):
    """A production request (48 hours' SLA) made by the product owner for the ML engineer's version, 50 hours
    ago, with one eligible reviewer for each role."""
    request = request_gate(new_version(), actor=product_owner)
    age(request, 50)
    return request


def test_overdue_sign_offs_are_chased_with_role_members_who_may_sign_them(
    overdue, second_ml_engineer, other_product_owner, security_reviewer, legal_reviewer, support_agent
):
    sent = signoff_reminders_send()

    assert reminded(pending_signoff(overdue, "ml")) == {second_ml_engineer.username}  # not the author
    assert reminded(pending_signoff(overdue, "product")) == {other_product_owner.username}  # not the requester
    assert reminded(pending_signoff(overdue, "security")) == {security_reviewer.username}
    assert reminded(pending_signoff(overdue, "legal")) == {legal_reviewer.username}
    assert sent == 4
    assert not Notification.objects.filter(user=support_agent).exists()
    notice = Notification.objects.get(key__startswith="signoff-reminder:", user=security_reviewer)
    assert "Waiting for you: Security reviewer sign-off" in notice.subject
    assert notice.url == overdue.get_absolute_url()


def test_running_twice_the_same_day_sends_nothing_new(overdue):
    now = timezone.now()
    first = signoff_reminders_send(now=now)
    count = Notification.objects.count()

    again = signoff_reminders_send(now=now + timedelta(minutes=5))

    assert first == 4
    assert again == 0
    assert Notification.objects.count() == count


def test_the_next_day_chases_again(overdue):
    today = timezone.now()
    signoff_reminders_send(now=today)

    assert signoff_reminders_send(now=today + timedelta(days=1)) == 4


def test_sign_offs_within_the_sla_are_not_chased(
    product_owner, other_product_owner, security_reviewer, new_version, request_gate
):
    request = request_gate(new_version(), actor=product_owner)
    age(request, 47)

    assert signoff_reminders_send() == 0
    assert not Notification.objects.filter(key__startswith="signoff-reminder:").exists()


def test_someone_who_signed_another_role_is_not_chased_for_this_one(overdue):
    dual = UserFactory(username="dual-hat", roles=["security", "legal"])
    signoff_decide(actor=dual, signoff=pending_signoff(overdue, "security"), decision="approve")

    signoff_reminders_send()

    assert "dual-hat" not in reminded(pending_signoff(overdue, "legal"))
    assert reminded(pending_signoff(overdue, "security")) == set()  # signed: nobody is chased


def test_sign_offs_of_a_decided_request_are_not_chased(overdue, security_reviewer):
    signoff_decide(
        actor=security_reviewer,
        signoff=pending_signoff(overdue, "security"),
        decision="reject",
        reason="No threat model.",
    )

    assert signoff_reminders_send() == 0


def test_the_daily_task_runs_the_reminders(overdue):
    assert signoff_reminders.delay().get() == 4


def test_notices_are_emailed_after_commit(
    django_capture_on_commit_callbacks, product_owner, new_version, request_gate, security_reviewer
):
    version = new_version()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        request = request_gate(version, actor=product_owner)

    assert callbacks
    notified = set(
        Notification.objects.filter(key__startswith=f"signoff-queued:{request.pk}:").values_list(
            "user__email", flat=True
        )
    )
    assert {address for message in mail.outbox for address in message.to} == notified
    assert len(mail.outbox) == len(notified)
    to_security = next(message for message in mail.outbox if message.to == [security_reviewer.email])
    assert to_security.subject.startswith("Sign-off needed")
    assert request.get_absolute_url() in to_security.body


def test_the_email_task_sends_one_email_per_notice_once(security_reviewer, legal_reviewer):
    notices = [
        Notification.objects.create(user=user, subject="Sign-off needed", body="Please look.", url="/approvals/1/")
        for user in (security_reviewer, legal_reviewer)
    ]
    mail.outbox.clear()

    sent = send_notification_emails.delay([notice.pk for notice in notices]).get()

    assert sent == 2
    assert sorted(message.to[0] for message in mail.outbox) == sorted([security_reviewer.email, legal_reviewer.email])
    assert all("/approvals/1/" in message.body for message in mail.outbox)
    # Run again (a retry, a duplicate delivery): every notice was already emailed.
    assert send_notification_emails.delay([notice.pk for notice in notices]).get() == 0
    assert len(mail.outbox) == 2
