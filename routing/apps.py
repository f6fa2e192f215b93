from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"
    verbose_name = "Routing"

    def ready(self):
        from registry import extensions
        from routing import cache
        from routing.panels import catalog_routes_panel, decision_log_panel
        from routing.previews import refused_route_ids, route_check, route_preview

        if cache.invalidate_on_audit not in extensions.audit_listeners:
            extensions.audit_listeners.append(cache.invalidate_on_audit)
        if catalog_routes_panel not in extensions.catalog_panels:
            extensions.catalog_panels.append(catalog_routes_panel)
        extensions.register(extensions.feature_panels, decision_log_panel)
        if route_preview not in extensions.route_previews:
            extensions.route_previews.append(route_preview)
        if route_check not in extensions.route_checks:
            extensions.route_checks.append(route_check)
        extensions.register(extensions.route_screens, refused_route_ids)
        cache.connect_account_receivers()

        from incidents import extensions as incident_extensions
        from routing.reports import decisions_section

        extensions.register(incident_extensions.report_section_providers, decisions_section)
