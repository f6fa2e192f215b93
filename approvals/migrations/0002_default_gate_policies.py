"""Install the default gate policies and tier assignments (approvals/defaults.py)."""

from django.db import migrations

from approvals.defaults import install_default_policies


def create_defaults(apps, schema_editor):
    install_default_policies(
        apps.get_model("approvals", "GatePolicy"),
        apps.get_model("approvals", "GateRequirement"),
        apps.get_model("approvals", "GateAssignment"),
    )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
