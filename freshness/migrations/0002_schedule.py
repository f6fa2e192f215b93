"""The sweep's beat schedule, stored in the database (editable in the admin), and the sweep lock row. What
the schedule runs and when is declared once, in freshness/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


def create_lock(apps, schema_editor):
    apps.get_model("freshness", "SweepLock").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("freshness", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_lock, migrations.RunPython.noop),
        migration_operations("Evidence freshness sweep"),
    ]
