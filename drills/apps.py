from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = "Drills and impact analysis"

    def ready(self):
        from drills.panels import catalog_impact_panel
        from registry import extensions

        if catalog_impact_panel not in extensions.catalog_panels:
            extensions.catalog_panels.append(catalog_impact_panel)
