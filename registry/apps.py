from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Registry"

    def ready(self):
        from registry import audit_links, receivers

        receivers.connect()
        audit_links.register()  # where the audit trail links the registry's own objects
