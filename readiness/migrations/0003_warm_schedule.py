"""The inventory cache's warm-up beat schedule, stored in the database (editable in the admin)."""

from django.db import migrations

NAME = "Warm the readiness inventory"
TASK = "readiness.tasks.readiness_warm"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="*/10", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "description": "Every ten minutes: compute what each feature "
            "is missing where the cached answer lapsed or changed, so the Readiness page stays fast.",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("readiness", "0002_schedule")]

    operations = [migrations.RunPython(create, remove)]
