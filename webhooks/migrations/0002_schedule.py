"""The beat schedule of the delivery sweep (every minute), stored in the database (editable in the admin).
What it runs and when is declared once, in webhooks/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Deliver due webhooks")]
