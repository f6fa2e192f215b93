from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outbound webhooks"

    def ready(self):
        from django.core.exceptions import ImproperlyConfigured

        from registry import extensions
        from webhooks.destinations import SETTING, blocked_networks, own_addresses
        from webhooks.outbox import audit_listener, checkpoint_listener

        if audit_listener not in extensions.audit_listeners:
            extensions.audit_listeners.append(audit_listener)
        if checkpoint_listener not in extensions.checkpoint_listeners:
            extensions.checkpoint_listeners.append(checkpoint_listener)
        try:
            blocked_networks()  # every process (web, worker, commands) refuses to start on a bad entry
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{SETTING}: {error}. Give comma-separated CIDRs, e.g. 127.0.0.0/8,::1/128."
            ) from None
        own_addresses()  # resolved once, now, not in the middle of a delivery
