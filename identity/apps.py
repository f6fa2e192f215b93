from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from identity import oidc
        from identity.panels import deactivated_panel
        from registry import extensions

        oidc.connect()  # single sign-on: the sign-in page's button, password sign-in off, break-glass trail
        if deactivated_panel not in extensions.home_panels:
            extensions.home_panels.append(deactivated_panel)
        from identity import audit_links

        extensions.register_audit_object_links("user", audit_links.people)
        extensions.register_audit_object_links("team", audit_links.teams)
