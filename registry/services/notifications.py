"""Telling people: an in-app notice per user and an email after the transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from core.mail import clean_subject
from registry.models import Notification

logger = logging.getLogger(__name__)


def notify(*, users: Iterable, subject: str, body: str = "", url: str = "", key: str = "") -> list[Notification]:
    """Create one notice per user (at most once per ``key`` and user) and email them on commit.

    Runs inside the caller's transaction: if the change rolls back, nobody is told.
    """
    recipients = {user.pk: user for user in users if user is not None and user.is_active}
    if not recipients:
        return []
    if key:
        already = set(Notification.objects.filter(key=key, user_id__in=recipients).values_list("user_id", flat=True))
        recipients = {pk: user for pk, user in recipients.items() if pk not in already}
    subject = clean_subject(subject)  # one line: a title typed with a newline must not break every email about it
    rows = [Notification(user=user, subject=subject, body=body, url=url, key=key) for user in recipients.values()]
    if key:
        # A concurrent sender may have just created some: the unique (user, key) keeps one of each.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        notices = list(Notification.objects.filter(key=key, user_id__in=list(recipients)))
    else:
        notices = Notification.objects.bulk_create(rows)
    ids = [notice.pk for notice in notices]

    def send() -> None:
        from core.queueing import enqueue
        from registry.tasks import send_notification_emails

        # The broker may be down. The change has committed and the notices are in the app; waiting or
        # raising here would turn the user's successful action into a slow or error page (inviting a
        # second, duplicate try). ``enqueue`` tries once and logs: the notices are the outbox, and the
        # hourly freshness sweep emails every notice left unsent (``freshness.services``).
        enqueue(send_notification_emails, (ids,), what=f"the email of notices {ids} (the next sweep sends them)")

    if ids:
        transaction.on_commit(send)
    return notices


def notification_mark_read(*, user, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (all of them when no ids are given). Not audited: it changes no record."""
    from django.utils import timezone

    notices = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        notices = notices.filter(pk__in=list(notification_ids))
    return notices.update(read_at=timezone.now())
