"""The inventory cache's warm-up beat schedule, stored in the database (editable in the admin). What it
runs and when is declared once, in readiness/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [("readiness", "0002_schedule")]

    operations = [migration_operations("Warm the readiness inventory")]
