from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "identity"
    verbose_name = "Identity"

    def ready(self) -> None:
        from identity import oidc

        oidc.connect()  # single sign-on: the sign-in page's button, password sign-in off, break-glass trail
