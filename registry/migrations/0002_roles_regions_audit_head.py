"""Reference data the app cannot run without: the role groups, the regions, the audit chain head."""

from django.db import migrations

ROLES = ["product", "ml", "security", "legal", "support", "governance", "auditor"]
REGIONS = [
    ("eu", "European Union"),
    ("uk", "United Kingdom"),
    ("us", "United States"),
    ("ca", "Canada"),
    ("apac", "Asia-Pacific"),
    ("jp", "Japan"),
]


def create_reference_data(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Region = apps.get_model("registry", "Region")
    AuditChainHead = apps.get_model("registry", "AuditChainHead")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    for code, name in REGIONS:
        Region.objects.get_or_create(code=code, defaults={"name": name})
    AuditChainHead.objects.get_or_create(id=1)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_reference_data, migrations.RunPython.noop)]
