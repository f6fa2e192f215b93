"""Beat schedule of the decision ledger's purge under its retention. What it runs and when is declared once,
in routing/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0003_publish_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Purge the decision ledger")]
