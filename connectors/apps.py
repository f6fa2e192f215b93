from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = "Connectors (MLflow)"

    def ready(self):
        from connectors.panels import drift_panel
        from registry import extensions

        if drift_panel not in extensions.home_panels:
            extensions.home_panels.append(drift_panel)
