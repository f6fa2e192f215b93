"""Issue 16: a newline in an incident title (the API, an alert summary) made every email about it fail with
``BadHeaderError``, retried for two days: the SEV1 emails were never sent. Subjects are made one line where
notices are made, and a failing email is reported on its notice, not retried for ever."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import BadHeaderError
from django.utils import timezone

from freshness.services import freshness_sweep
from registry import tasks
from registry.models import Notification
from registry.services import notify
from registry.tasks import MAX_EMAIL_ATTEMPTS, send_notification_emails
from tests.incidents.conftest import hours_ago

API = "/api/v1/incidents/"


def test_an_incident_titled_with_a_newline_is_emailed_with_a_one_line_subject(
    client, history, support_agent, bearer, on_call, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            API,
            {
                "feature": "claims-triage",
                "region": "eu",
                "severity": "sev1",
                "impact_start": hours_ago(1).isoformat(),
                "title": "Wrong queue\r\nBcc: everyone@example.test\x07\u2028again",
                "description": "Motor claims in the travel queue.",
            },
            content_type="application/json",
            **bearer(support_agent),
        )

    assert response.status_code == 201, response.content
    notices = Notification.objects.filter(subject__contains="Wrong queue")
    assert notices.exists()
    for notice in notices:
        assert "\n" not in notice.subject and "\r" not in notice.subject and "\x07" not in notice.subject
        assert notice.subject.endswith("Wrong queue Bcc: everyone@example.test again"), notice.subject
    assert not notices.filter(emailed_at__isnull=True).exists()
    assert {message.subject for message in mail.outbox if "Wrong queue" in message.subject} == set(
        notices.values_list("subject", flat=True)
    )
    assert all(message.bcc == [] for message in mail.outbox)


def test_a_long_subject_is_cut_to_one_line_of_at_most_200_characters(product_owner):
    (notice,) = notify(users=[product_owner], subject="Alert: " + "x" * 400 + "\n\ttail")

    assert len(notice.subject) == 200 and notice.subject.endswith("…")


def test_a_notice_stored_with_a_newline_is_still_emailed_cleanly(product_owner, django_capture_on_commit_callbacks):
    """Rows written before subjects were cleaned."""
    with django_capture_on_commit_callbacks(execute=False):
        (notice,) = notify(users=[product_owner], subject="SEV1 on claims")
    Notification.objects.filter(pk=notice.pk).update(subject="SEV1 on claims:\nOdd answers")
    mail.outbox.clear()

    assert send_notification_emails([notice.pk]) == 1
    assert [message.subject for message in mail.outbox] == ["SEV1 on claims: Odd answers"]


def test_an_email_that_cannot_be_sent_is_reported_once_not_retried_and_the_others_go_out(
    product_owner, ml_engineer, django_capture_on_commit_callbacks, caplog
):
    with django_capture_on_commit_callbacks(execute=False):
        (bad,) = notify(users=[product_owner], subject="First")
        (good,) = notify(users=[ml_engineer], subject="Second")
    mail.outbox.clear()
    real_send = tasks.send_mail

    def refuse_first(subject, *args, **kwargs):
        if subject == "First":
            raise BadHeaderError("Header values can't contain newlines")
        return real_send(subject, *args, **kwargs)

    with mock.patch.object(tasks, "send_mail", side_effect=refuse_first) as sending:
        assert send_notification_emails([bad.pk, good.pk]) == 1  # no exception: no retry of the task
        bad.refresh_from_db()
        assert bad.emailed_at is None and bad.email_failed_at is not None
        assert "BadHeaderError" in bad.email_error
        assert any("given up" in record.getMessage() for record in caplog.records)
        assert [message.subject for message in mail.outbox] == ["Second"]

        # The hourly sweep retries unsent emails, but not one given up: it is not sent again.
        calls = sending.call_count
        freshness_sweep(now=timezone.now() + timedelta(minutes=20))
        send_notification_emails([bad.pk])
        assert sending.call_count == calls


def test_a_mail_server_that_keeps_failing_is_tried_a_bounded_number_of_times(
    product_owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        (notice,) = notify(users=[product_owner], subject="SEV1 on claims")
    down = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

    with mock.patch.object(tasks, "send_mail", side_effect=down) as sending:
        for _ in range(MAX_EMAIL_ATTEMPTS + 3):  # the task's retries, then the sweep queueing it again
            try:
                send_notification_emails.run([notice.pk])
            except OSError:
                pass

    notice.refresh_from_db()
    assert sending.call_count == MAX_EMAIL_ATTEMPTS
    assert notice.email_failed_at is not None and notice.email_attempts == MAX_EMAIL_ATTEMPTS - 1
    assert "SMTPServerDisconnected" in notice.email_error


@pytest.fixture(autouse=True)
def _mail_backend(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_the_notices_page_says_when_an_email_was_given_up(client, product_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        (notice,) = notify(users=[product_owner], subject="SEV1 on claims")
    Notification.objects.filter(pk=notice.pk).update(
        email_failed_at=timezone.now(), email_error="Not retried: BadHeaderError: newline"
    )
    client.force_login(product_owner)

    page = client.get("/notifications/").content.decode()

    assert "Email not sent" in page and "Not retried: BadHeaderError: newline" in page


def test_the_sweep_emails_a_backlog_in_pieces_each_its_own_task(
    product_owner, ml_engineer, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue 16: long work is acknowledged in pieces, so a worker killed mid-way redoes one short task."""
    from freshness import services as freshness_services

    monkeypatch.setattr(freshness_services, "EMAIL_CHUNK", 2)
    with django_capture_on_commit_callbacks(execute=False):
        for number in range(5):
            notify(users=[product_owner], subject=f"Backlog {number}")
    Notification.objects.update(created_at=timezone.now() - timedelta(hours=1))
    mail.outbox.clear()
    calls = []
    real_run = send_notification_emails.run
    monkeypatch.setattr(send_notification_emails, "run", lambda ids: calls.append(list(ids)) or real_run(ids))

    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep()

    assert [len(ids) for ids in calls] == [2, 2, 1]
    assert len(mail.outbox) == 5


def test_staff_find_the_emails_given_up_in_the_admin(client, product_owner, django_capture_on_commit_callbacks):
    from django.contrib.auth import get_user_model

    with django_capture_on_commit_callbacks(execute=False):
        (failed,) = notify(users=[product_owner], subject="SEV1 on claims")
        notify(users=[product_owner], subject="All good")
    Notification.objects.filter(pk=failed.pk).update(email_failed_at=timezone.now(), email_error="Not retried: x")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.test", "pw"))

    page = client.get("/admin/registry/notification/", {"email_failed_at__isnull": "False"}).content.decode()

    assert "SEV1 on claims" in page and "All good" not in page and "Not retried: x" in page
