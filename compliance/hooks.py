"""Where compliance plugs into the apps below it (registered in ``ComplianceConfig.ready``)."""

from __future__ import annotations


def register_all() -> None:
    from approvals import extensions as gate_extensions
    from compliance import evidence_pages
    from compliance.guards import regulatory_guard, technical_file_checks
    from compliance.panels import compliance_panel
    from registry import extensions

    extensions.register(extensions.promotion_guards, regulatory_guard)
    extensions.register(extensions.feature_panels, compliance_panel)
    gate_extensions.register(gate_extensions.gate_check_providers, technical_file_checks)
    gate_extensions.register(gate_extensions.gate_check_scopes, _profiled_features)
    extensions.register_audit_object_links("regulatoryprofile", _profile_links)
    extensions.register_audit_object_links("documentrevision", _revision_links)
    extensions.register_audit_object_links("controlstatement", _control_links)
    extensions.register_audit_object_links("rmfsubcategory", _subcategory_links)
    evidence_pages.register()


def _profiled_features(feature_ids) -> set[int]:
    """Features whose confirmed category adds a gate check (high-risk, prohibited)."""
    from compliance.choices import Category
    from compliance.models import RegulatoryProfile

    return set(
        RegulatoryProfile.objects.filter(
            feature_id__in=feature_ids, confirmed_category__in=[Category.HIGH_RISK, Category.PROHIBITED]
        ).values_list("feature_id", flat=True)
    )


def _profile_links(ids, user) -> dict[str, str]:
    from compliance.selectors import profiles_visible_to

    found = profiles_visible_to(user).filter(pk__in=[int(pk) for pk in ids if str(pk).isdigit()])
    return {str(profile.pk): profile.get_absolute_url() for profile in found}


def _revision_links(ids, user) -> dict[str, str]:
    from compliance.models import DocumentRevision
    from registry.selectors import features_visible_to

    found = DocumentRevision.objects.filter(
        pk__in=[int(pk) for pk in ids if str(pk).isdigit()], document__feature__in=features_visible_to(user)
    ).select_related("document__feature")
    return {str(revision.pk): revision.get_absolute_url() for revision in found}


def _control_links(ids, user) -> dict[str, str]:
    from compliance.models import ControlStatement

    return {
        str(pk): ControlStatement(control_id=control_id).get_absolute_url()
        for pk, control_id in ControlStatement.objects.filter(
            pk__in=[int(pk) for pk in ids if str(pk).isdigit()]
        ).values_list("pk", "control_id")
    }


def _subcategory_links(ids, user) -> dict[str, str]:
    from compliance.models import RmfSubcategory

    return {
        str(pk): RmfSubcategory(subcategory_id=subcategory_id).get_absolute_url()
        for pk, subcategory_id in RmfSubcategory.objects.filter(
            pk__in=[int(pk) for pk in ids if str(pk).isdigit()]
        ).values_list("pk", "subcategory_id")
    }
