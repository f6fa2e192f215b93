"""The sweep's beat schedule, stored in the database (editable in the admin), and the sweep lock row."""

from django.db import migrations

NAME = "Evidence freshness sweep"
TASK = "freshness.tasks.evidence_freshness_sweep"


def create(apps, schema_editor):
    apps.get_model("freshness", "SweepLock").objects.get_or_create(pk=1)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "description": "Hourly: flag stale, failing or missing evidence "
            "of live versions, tell owners once, block promotions and escalate by policy.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("freshness", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
