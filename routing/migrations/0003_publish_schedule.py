"""Beat schedule publishing resolve-cache invalidations recorded while the shared cache was unreachable.
What it runs and when is declared once, in routing/schedules.py."""

from django.db import migrations

from registry.beat import migration_operations


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0002_unpublished_invalidation"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migration_operations("Publish missed cache invalidations")]
