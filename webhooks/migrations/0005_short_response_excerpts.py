"""Issue 16: answers were kept up to 500 characters (a read-back channel into internal services). Cut what is
stored to the short, one-line excerpt new attempts keep."""

from django.db import migrations

from core.mail import clean_subject

EXCERPT_CHARS = 120  # webhooks.delivery.EXCERPT_CHARS when this was written


def shorten(apps, schema_editor):
    for model_name, field in (("WebhookDelivery", "last_response_excerpt"), ("WebhookAttempt", "response_excerpt")):
        model = apps.get_model("webhooks", model_name)
        for pk, text in model.objects.exclude(**{field: ""}).values_list("pk", field).iterator(chunk_size=2000):
            short = clean_subject(text, limit=EXCERPT_CHARS)
            if short != text:
                model.objects.filter(pk=pk).update(**{field: short})


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0004_audit_checkpoint_event")]

    operations = [migrations.RunPython(shorten, migrations.RunPython.noop, elidable=True)]
