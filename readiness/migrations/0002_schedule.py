"""The daily readiness snapshot's beat schedule, stored in the database (editable in the admin). What it
runs and when is declared once, in readiness/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("readiness", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Daily readiness snapshot")]
