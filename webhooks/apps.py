from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from registry import extensions
        from webhooks.outbox import audit_listener

        if audit_listener not in extensions.audit_listeners:
            extensions.audit_listeners.append(audit_listener)
