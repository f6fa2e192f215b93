"""Celery tasks of the registry. Thin: they take ids, re-fetch, and act."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import BadHeaderError, send_mail
from django.db.models import F
from django.utils import timezone

from core.mail import clean_subject
from registry.models import Notification

logger = logging.getLogger(__name__)

# An email that fails this many times is given up (and reported), however often it is queued again.
MAX_EMAIL_ATTEMPTS = 5
# Errors no retry fixes: a header Django refuses, an address the server refuses for good.
PERMANENT_EMAIL_ERRORS = (BadHeaderError, ValueError, UnicodeError, smtplib.SMTPRecipientsRefused)


def _give_up(notice: Notification, error: BaseException, reason: str) -> None:
    """Reported, not retried: logged, and marked on the notice (the notices page and the admin show it)."""
    text = f"{reason}: {type(error).__name__}: {error}"
    logger.error("Email of notice %s to %s given up. %s", notice.pk, notice.user, text)
    Notification.objects.filter(pk=notice.pk).update(
        emailed_at=None, email_failed_at=timezone.now(), email_error=clean_subject(text, limit=300)
    )


@shared_task(
    acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=300, max_retries=MAX_EMAIL_ATTEMPTS
)
def send_notification_emails(notification_ids: list[int]) -> int:
    """Email each notice at most once, even when the task is retried or runs twice at the same time.

    Each notice is claimed with a conditional update before sending; a failed send releases the
    claim so the retry sends it (and only it) again. A failure no retry fixes (``BadHeaderError``...) gives
    that notice up at once and the others are still sent; a passing one (the mail server down) is retried,
    up to ``MAX_EMAIL_ATTEMPTS`` times per notice, then given up. Given-up notices are never queued again.
    """
    sent = 0
    transient = None
    base = settings.GATEHOUSE_BASE_URL.rstrip("/")
    pending = Notification.objects.filter(
        pk__in=notification_ids, emailed_at__isnull=True, email_failed_at__isnull=True
    )
    for notice in pending.select_related("user"):
        if not notice.user.email:
            continue
        claimed = Notification.objects.filter(pk=notice.pk, emailed_at__isnull=True).update(emailed_at=timezone.now())
        if not claimed:
            continue  # another worker has it
        link = f"\n\n{base}{notice.url}" if notice.url else ""
        try:
            # Cleaned again: notices stored before subjects were cleaned in ``notify``.
            send_mail(
                clean_subject(notice.subject), f"{notice.body}{link}", None, [notice.user.email], fail_silently=False
            )
        except PERMANENT_EMAIL_ERRORS as error:
            _give_up(notice, error, "Not retried")
            continue
        except Exception as error:
            attempts = notice.email_attempts + 1
            if attempts >= MAX_EMAIL_ATTEMPTS:
                _give_up(notice, error, f"Failed {attempts} times")
                continue
            Notification.objects.filter(pk=notice.pk).update(emailed_at=None, email_attempts=F("email_attempts") + 1)
            logger.warning("Email of notice %s failed (attempt %s), retried: %s", notice.pk, attempts, error)
            transient = error if isinstance(error, OSError) else OSError(f"{type(error).__name__}: {error}")
            continue
        sent += 1
    if transient is not None:
        raise transient  # retried (with backoff) for the notices still unsent; the others stay sent
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


@shared_task
def verify_audit_trail(run_id: int) -> str:
    """Walk the whole audit chain for a verification run started on the *Verify the trail* page."""
    from core.audit_context import audit_context
    from registry.services.audit_runs import verification_execute

    with audit_context(source="task"):
        run = verification_execute(run_id)
    return run.status if run is not None else "gone"


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=480, time_limit=540)
def purge_audit_trail() -> int:
    """Daily: purge the audit trail under GATEHOUSE_AUDIT_RETENTION_DAYS, up to a signed checkpoint (audited)."""
    from core.audit_context import audit_context
    from registry.services.audit_retention import audit_purge

    with audit_context(source="task"):
        return audit_purge().deleted
