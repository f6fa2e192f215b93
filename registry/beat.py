"""The beat schedules Gatehouse ships with: one list, declared app by app.

Each app with periodic tasks declares them next to its ``tasks.py``, in ``schedules.py``::

    SCHEDULES = [Schedule("Deliver due webhooks", "webhooks.tasks.deliver_due", minute="*", hour="*", ...)]

``shipped_schedules()`` reads every installed app's list through the app registry, so the registry
imports no app above it. ``manage.py setup_schedules`` and the migrations that create schedules read
here and create with ``schedules_ensure``: a schedule counts as existing when a periodic task has its
name, or runs its task under another name (so a renamed one is not doubled), and an existing one is
never changed (an admin's edits in *Periodic tasks* are kept).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass

from django.apps import apps as installed


@dataclass(frozen=True)
class Schedule:
    """A periodic task: its name (how the admin lists it), the Celery task it runs and its UTC crontab."""

    name: str
    task: str
    minute: str
    hour: str
    description: str = ""


def app_schedules(app_config) -> list[Schedule]:
    """The schedules ``<app>/schedules.py`` declares, or none where the app has no such module."""
    module_name = f"{app_config.name}.schedules"
    if importlib.util.find_spec(module_name) is None:
        return []
    declared = getattr(importlib.import_module(module_name), "SCHEDULES", None)
    if declared is None:
        return []
    if not all(isinstance(schedule, Schedule) for schedule in declared):
        raise TypeError(f"{module_name}.SCHEDULES must hold registry.beat.Schedule entries.")
    return list(declared)


def shipped_schedules() -> list[Schedule]:
    """Every installed app's schedules, in the order of ``INSTALLED_APPS``."""
    return [schedule for config in installed.get_app_configs() for schedule in app_schedules(config)]


def schedules_named(*names: str) -> list[Schedule]:
    """The shipped schedules called ``names``, in that order (``KeyError`` for a name no app declares)."""
    by_name = {schedule.name: schedule for schedule in shipped_schedules()}
    return [by_name[name] for name in names]


def schedules_ensure(
    schedules: Iterable[Schedule], *, crontab_model=None, task_model=None
) -> tuple[list[str], list[str]]:
    """Create the periodic tasks of ``schedules`` that are missing. Returns (created, kept) names.

    Migrations pass their historical ``CrontabSchedule`` and ``PeriodicTask`` models; everything else
    leaves them out (django-celery-beat's own)."""
    if crontab_model is None or task_model is None:
        from django_celery_beat.models import CrontabSchedule, PeriodicTask

        crontab_model, task_model = CrontabSchedule, PeriodicTask
    created, kept = [], []
    for spec in schedules:
        existing = (
            task_model.objects.filter(name=spec.name).first()
            or task_model.objects.filter(task=spec.task).order_by("pk").first()
        )
        if existing is not None:
            kept.append(existing.name)
            continue
        crontab, _ = crontab_model.objects.get_or_create(
            minute=spec.minute, hour=spec.hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
        )
        task_model.objects.create(name=spec.name, task=spec.task, crontab=crontab, description=spec.description)
        created.append(spec.name)
    return created, kept


def migration_operations(*names: str):
    """What a migration runs to create the shipped schedules called ``names`` (and to remove them when
    it is reversed), with the migration's historical models."""
    from django.db import migrations

    def create(apps, schema_editor):
        schedules_ensure(
            schedules_named(*names),
            crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
            task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        )

    def remove(apps, schema_editor):
        apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()

    return migrations.RunPython(create, remove)
