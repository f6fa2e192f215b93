from django.apps import AppConfig


class FreshnessConfig(AppConfig):
    name = "freshness"
    verbose_name = "Evidence freshness"

    def ready(self):
        from freshness import receivers  # noqa: F401  (connects the signal receivers)
        from freshness.guards import freshness_badges, freshness_block, freshness_panel, monitoring_plan_panel
        from freshness.receivers import recheck_findings_on_gate_change
        from registry import extensions

        for registry, hook in (
            (extensions.promotion_guards, freshness_block),
            (extensions.feature_panels, freshness_panel),
            (extensions.feature_panels, monitoring_plan_panel),
            (extensions.badge_providers, freshness_badges),
            (extensions.audit_listeners, recheck_findings_on_gate_change),
        ):
            if hook not in registry:
                registry.append(hook)

        from freshness import panels

        extensions.register(extensions.home_panels, panels.evidence_panel)
        from freshness.guards import plan_links

        extensions.register_audit_object_links("monitoringplan", plan_links)
        extensions.register(extensions.posture_figures, panels.posture)

        from approvals import extensions as approvals_extensions
        from freshness.gate_preview import findings_effect

        approvals_extensions.register(approvals_extensions.findings_effects, findings_effect)
