from django.apps import AppConfig


class PacksConfig(AppConfig):
    name = "packs"
    verbose_name = "Evidence packs"

    def ready(self):
        from packs.panels import pack_panel
        from registry import extensions

        if pack_panel not in extensions.feature_panels:
            extensions.feature_panels.append(pack_panel)
