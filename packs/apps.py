from django.apps import AppConfig


class PacksConfig(AppConfig):
    name = "packs"
    verbose_name = "Evidence packs"

    def ready(self):
        from packs.panels import pack_panel
        from registry import extensions

        if pack_panel not in extensions.feature_panels:
            extensions.feature_panels.append(pack_panel)
        from compliance.extensions import register_evidence_page
        from packs.evidence import export_evidence, export_links

        extensions.register_audit_object_links("packexport", export_links)
        register_evidence_page("packs:export_detail", export_evidence)
