"""The beat schedule of access review reminders, stored in the database (editable in the admin). The same
as its entry in freshness/management/commands/setup_schedules.py."""

from django.db import migrations

NAME = "Daily access review reminders"
TASK = "identity.tasks.access_review_reminders"
DESCRIPTION = (
    "Daily: remind reviewers of access review items still pending in the last days before the due date "
    "(once a day), and escalate those past due to governance."
)


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="45", hour="7", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.get_or_create(
        name=NAME, defaults={"task": TASK, "crontab": crontab, "description": DESCRIPTION}
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0002_access_review_rules"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
