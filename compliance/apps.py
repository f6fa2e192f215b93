from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance (EU AI Act, ISO/IEC 42001, NIST AI RMF)"

    def ready(self):
        from compliance import hooks

        hooks.register_all()
