from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self):
        from incidents.guards import incident_freeze, incident_panel
        from registry import extensions

        if incident_freeze not in extensions.promotion_guards:
            extensions.promotion_guards.append(incident_freeze)
        if incident_panel not in extensions.feature_panels:
            extensions.feature_panels.append(incident_panel)

        from incidents import panels

        extensions.register(extensions.home_panels, panels.open_incidents_panel, panels.serious_clocks_panel)
        extensions.register(extensions.posture_figures, panels.posture)

        from incidents.services import snapshot_before_rollback

        extensions.register(extensions.rollback_preparers, snapshot_before_rollback)

        from incidents.audit_links import incidents

        extensions.register_audit_object_links("incident", incidents)
