"""The connectors' periodic task (``registry.beat`` collects it; the admin edits it afterwards)."""

from registry.beat import Schedule

SCHEDULES = [
    Schedule(
        "Sync MLflow servers",
        "connectors.tasks.sync_all",
        minute="*/15",
        hour="*",
        description="Every 15 minutes: import new MLflow model versions and check each deploying alias for drift. "
        "The fallback for webhook deliveries MLflow lost.",
    ),
]
