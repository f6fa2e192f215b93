# The idempotency key moved to the core app (core.0001): the table stays; only Django's state moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0019_idempotency_keys"),
        ("core", "0001_idempotency_key_from_registry"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
    ]
