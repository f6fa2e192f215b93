from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "readiness"
    verbose_name = "Readiness"

    def ready(self):
        from readiness.panels import readiness_panel
        from registry import extensions

        if readiness_panel not in extensions.feature_panels:
            extensions.feature_panels.append(readiness_panel)

        from readiness import home
        from readiness.current import invalidate_on_audit

        extensions.register(extensions.audit_listeners, invalidate_on_audit)

        extensions.register(extensions.home_panels, home.owner_panel, home.tier_panel)
        extensions.register(extensions.posture_figures, home.posture)

        from approvals import extensions as approvals_extensions
        from readiness.gate_preview import readiness_effect

        approvals_extensions.register(approvals_extensions.readiness_effects, readiness_effect)
