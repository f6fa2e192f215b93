from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app uses and no domain owns: base views, middleware, the API's plumbing, widgets,
    template tags, filters, mail, locks, queueing, encryption. It imports no other app (docs/architecture.md)."""

    name = "core"
    verbose_name = "Core"
