from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"

    def ready(self):
        from identity.panels import deactivated_panel
        from registry import extensions

        if deactivated_panel not in extensions.home_panels:
            extensions.home_panels.append(deactivated_panel)
