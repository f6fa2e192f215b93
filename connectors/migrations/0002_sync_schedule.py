"""Beat schedule of the MLflow sync. What it runs and when is declared once, in connectors/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_mlflow"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Sync MLflow servers")]
