"""Beat schedules of the approvals app, stored in the database (editable in the admin). What each runs and
when is declared once, in approvals/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("approvals", "0002_default_gate_policies"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Daily sign-off reminders", "Expire unused approvals")]
