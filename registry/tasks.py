"""Celery tasks of the registry. Thin: they take ids, re-fetch, and act."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail

from registry.models import Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    sent = 0
    base = getattr(settings, "GATEHOUSE_BASE_URL", "").rstrip("/")
    for notice in Notification.objects.filter(pk__in=notification_ids).select_related("user"):
        if not notice.user.email:
            continue
        link = f"\n\n{base}{notice.url}" if notice.url else ""
        send_mail(notice.subject, f"{notice.body}{link}", None, [notice.user.email], fail_silently=False)
        sent += 1
    return sent
