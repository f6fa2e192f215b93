"""Beat schedule signing the audit chain's head every 15 minutes and publishing it outside the database.
What it runs and when is declared once, in registry/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0015_audit_keyed_chain"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Audit chain checkpoint")]
