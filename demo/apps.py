from django.apps import AppConfig


class DemoConfig(AppConfig):
    """``manage.py seed_demo`` and every app's demo data. It uses the apps' services like any other caller;
    nothing imports it (docs/architecture.md)."""

    name = "demo"
    verbose_name = "Demo data"
