"""Beat schedule of access review reminders and escalation. What it runs and when is declared once, in
identity/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0002_access_review_rules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Daily access review reminders")]
