"""Errors stored before the log spoke in words (``gaierror: [Errno -2] Name or service not known``,
``<urlopen error [Errno 111] Connection refused>``): the words go in the error, naming the receiver's host,
and the stored text moves to the technical detail. Errors already in words are left as they are."""

import re
from urllib.parse import urlsplit

from django.db import migrations

TIMEOUT_SECONDS = 5  # webhooks.choices.TIMEOUT_SECONDS when this was written
TECHNICAL = re.compile(r"Errno|gaierror|urlopen error|^\w+(Error|Exception|Disconnected|Timeout|timeout)\b.*:", re.I)
UNRESOLVED = re.compile(
    r"gaierror|Errno -[235]\b|Name or service not known|nodename nor servname|name resolution", re.I
)
REFUSED = re.compile(r"Connection ?refused|Errno 111\b|Errno 61\b", re.I)
TIMED_OUT = re.compile(r"timed out|timeout", re.I)


def words(raw: str, url: str) -> str:
    parts = urlsplit(url or "")
    host = parts.hostname or "the receiver"
    if UNRESOLVED.search(raw):
        return f"Could not resolve host {host} (no DNS record for that name)."
    if REFUSED.search(raw):
        return f"Connection refused by {host} (nothing listens there)."
    if TIMED_OUT.search(raw):
        return f"Timed out after {TIMEOUT_SECONDS} s: {host} did not answer."
    return f"Could not reach {host}."


def reword(apps, schema_editor):
    WebhookDelivery = apps.get_model("webhooks", "WebhookDelivery")
    WebhookAttempt = apps.get_model("webhooks", "WebhookAttempt")
    deliveries = (
        WebhookDelivery.objects.filter(last_error_detail="", last_status_code__isnull=True)
        .exclude(last_error="")
        .values_list("pk", "last_error", "subscription__target_url")
    )
    for pk, raw, url in deliveries.iterator(chunk_size=2000):
        if TECHNICAL.search(raw):
            WebhookDelivery.objects.filter(pk=pk).update(last_error=words(raw, url), last_error_detail=raw[:500])
    attempts = (
        WebhookAttempt.objects.filter(error_detail="", status_code__isnull=True)
        .exclude(error="")
        .values_list("pk", "error", "delivery__subscription__target_url")
    )
    for pk, raw, url in attempts.iterator(chunk_size=2000):
        if TECHNICAL.search(raw):
            WebhookAttempt.objects.filter(pk=pk).update(error=words(raw, url), error_detail=raw[:500])


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0007_error_detail")]

    operations = [migrations.RunPython(reword, migrations.RunPython.noop, elidable=True)]
