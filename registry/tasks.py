"""Celery tasks of the registry. Thin: they take ids, re-fetch, and act."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from registry.models import Notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_notification_emails(notification_ids: list[int]) -> int:
    """Email each notice at most once, even when the task is retried or runs twice at the same time.

    Each notice is claimed with a conditional update before sending; a failed send releases the
    claim so the retry sends it (and only it) again.
    """
    sent = 0
    base = settings.GATEHOUSE_BASE_URL.rstrip("/")
    for notice in Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).select_related("user"):
        if not notice.user.email:
            continue
        claimed = Notification.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
        if not claimed:
            continue  # another worker has it
        link = f"\n\n{base}{notice.url}" if notice.url else ""
        try:
            send_mail(notice.subject, f"{notice.body}{link}", None, [notice.user.email], fail_silently=False)
        except Exception:
            Notification.objects.filter(pk=notice.pk).update(emailed_at=None)
            raise
        sent += 1
    return sent


@shared_task(acks_late=True)
def expire_reviewer_grants() -> int:
    from registry.services import reviewer_grants_expire

    return reviewer_grants_expire()


@shared_task(acks_late=True)
def audit_checkpoint() -> int:
    """Sign the audit chain's head and publish it outside the database (anchor file, webhook stream)."""
    from registry.services.audit_checkpoint import audit_checkpoint_take

    checkpoint, _anchored = audit_checkpoint_take()
    return checkpoint.sequence
