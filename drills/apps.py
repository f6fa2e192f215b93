from django.apps import AppConfig


class DrillsConfig(AppConfig):
    name = "drills"
    verbose_name = "Drills and impact analysis"

    def ready(self):
        from drills.panels import catalog_impact_panel
        from registry import extensions

        if catalog_impact_panel not in extensions.catalog_panels:
            extensions.catalog_panels.append(catalog_impact_panel)
        from compliance.extensions import register_evidence_page
        from drills.evidence import run_evidence, run_links

        extensions.register_audit_object_links("drillrun", run_links)
        register_evidence_page("drills:run_detail", run_evidence)
