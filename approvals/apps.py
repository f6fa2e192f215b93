from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals"

    def ready(self):
        from approvals import receivers  # noqa: F401  (connects the signal receivers)
        from approvals.services import signoffs_at_stake, signoffs_withdraw_on_role_loss
        from registry import extensions

        if signoffs_withdraw_on_role_loss not in extensions.membership_listeners:
            extensions.membership_listeners.append(signoffs_withdraw_on_role_loss)
        if signoffs_at_stake not in extensions.membership_consequence_providers:
            extensions.membership_consequence_providers.append(signoffs_at_stake)

        from approvals import panels

        extensions.register(extensions.home_panels, panels.queue_panel, panels.signoffs_by_role_panel)
        extensions.register(extensions.posture_figures, panels.posture)

        from approvals import audit_links

        extensions.register_audit_object_links("approvalrequest", audit_links.approval_requests)
        extensions.register_audit_object_links("gatepolicy", audit_links.gate_policies)
