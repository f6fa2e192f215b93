"""Beat schedule recording the end of reviewer grants past their expiry (access ends at the expiry anyway).
What it runs and when is declared once, in registry/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0009_reviewer_grant"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Expire reviewer grants")]
