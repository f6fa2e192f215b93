"""Issue 16: a sweep killed mid-run waited for the broker's one-hour visibility timeout. The timeout is now
ten minutes (CELERY_VISIBILITY_TIMEOUT), which is safe only if no task runs that long: a message is then
redelivered when its worker died, never while it still runs. Every task is safe to run twice besides."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.conf import settings

from config.celery import app


def all_tasks():
    for config in apps.get_app_configs():
        try:
            importlib.import_module(f"{config.name}.tasks")
        except ModuleNotFoundError:
            continue
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_the_redis_broker_gives_a_killed_task_back_within_minutes_not_an_hour():
    assert settings.CELERY_VISIBILITY_TIMEOUT <= 15 * 60


def test_every_task_ends_before_the_visibility_timeout_so_none_is_handed_out_twice_while_running():
    tasks = all_tasks()
    assert {
        "freshness.tasks.evidence_freshness_sweep",
        "packs.tasks.build_evidence_pack",
        "webhooks.tasks.deliver_webhook",
    } <= set(tasks)
    too_long = {
        name: limit
        for name, task in tasks.items()
        if not (limit := task.time_limit or app.conf.task_time_limit) or limit >= settings.CELERY_VISIBILITY_TIMEOUT
    }
    assert not too_long, f"no time limit, or one past the visibility timeout: {too_long}"
    # Retries waiting in the broker (a countdown) must not outlive it either.
    assert all(
        (getattr(task, "retry_backoff_max", None) or 600) < settings.CELERY_VISIBILITY_TIMEOUT
        for task in tasks.values()
        if getattr(task, "autoretry_for", None)
    )
