"""Beat schedule of the serious-incident report reminders. What it runs and when is declared once, in
incidents/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_serious_reports_and_evidence"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Serious incident report reminders")]
