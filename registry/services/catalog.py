"""The catalog: vendors, models, prompt versions, policy packs, datasets. Governed, audited entries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from core.locks import lock_name, save_unique
from registry.choices import DataClassification, VendorStatus
from registry.models import CatalogModel, Dataset, PolicyPack, PromptVersion, Region, Team, Vendor
from registry.permissions import can_manage_catalog, dataset_owner_choices
from registry.services.audit import audit_record


def _require(actor, entry: str, label: str) -> None:
    if not can_manage_catalog(actor, entry):
        raise PermissionDenied(f"You may not add {label} to the catalog.")


def _save_and_audit(
    *,
    actor,
    instance,
    action: str,
    payload: dict[str, Any],
    regions: Iterable[Region] | None = None,
    region_field: str = "regions",
):
    instance.full_clean()
    save_unique(instance)
    if regions is not None:
        getattr(instance, region_field).set(regions)
        payload = {**payload, region_field: sorted(region.code for region in regions)}
    audit_record(actor=actor, action=action, target=instance, payload={"new": payload})
    return instance


def vendor_create(
    *, actor, slug: str, name: str, status: str = VendorStatus.UNDER_REVIEW, website: str = "", notes: str = ""
) -> Vendor:
    """A new vendor starts under review unless told otherwise (the API's ``status`` is optional)."""
    _require(actor, "vendor", "vendors")
    with transaction.atomic():
        vendor = Vendor(slug=slug, name=name, status=status, website=website, notes=notes)
        return _save_and_audit(
            actor=actor,
            instance=vendor,
            action="vendor.created",
            payload={"slug": slug, "name": name, "status": status},
        )


def catalog_model_create(
    *,
    actor,
    vendor: Vendor,
    identifier: str,
    context_window: int,
    regions: Iterable[Region],
    modality: str = "text",
    status: str = "approved",
    display_name: str = "",
    deprecation_date=None,
    notes: str = "",
) -> CatalogModel:
    _require(actor, "model", "models")
    regions = list(regions)
    if not regions:
        raise ValidationError({"regions": "Choose at least one region where the model is hosted."})
    with transaction.atomic():
        model = CatalogModel(
            vendor=vendor,
            identifier=identifier.strip(),
            display_name=display_name.strip(),
            context_window=context_window,
            modality=modality,
            status=status,
            deprecation_date=deprecation_date,
            notes=notes,
        )
        return _save_and_audit(
            actor=actor,
            instance=model,
            action="model.created",
            payload={
                "vendor": vendor.slug,
                "identifier": model.identifier,
                "status": status,
                "context_window": context_window,
            },
            regions=regions,
        )


def prompt_version_create(*, actor, name: str, template: str, notes: str = "") -> PromptVersion:
    """Add the next version of a named prompt (version 1 for a new name)."""
    _require(actor, "prompt", "prompt versions")
    if not template.strip():
        raise ValidationError({"template": "The prompt template cannot be empty."})
    with transaction.atomic():
        lock_name("prompt", name)  # two writers cannot take the same number, even for a new name
        number = (PromptVersion.objects.filter(name=name).aggregate(top=Max("version"))["top"] or 0) + 1
        prompt = PromptVersion(
            name=name,
            version=number,
            template=template,
            content_hash=PromptVersion.hash_template(template),
            notes=notes,
            created_by=actor,
        )
        return _save_and_audit(
            actor=actor,
            instance=prompt,
            action="prompt.created",
            payload={"name": name, "version": number, "content_hash": prompt.content_hash},
        )


def policy_pack_create(
    *,
    actor,
    name: str,
    allowed_regions: Iterable[Region],
    description: str = "",
    safety_requirements: list[str] | None = None,
    allowed_tools: list[dict[str, str]] | None = None,
    data_classifications: list[str] | None = None,
) -> PolicyPack:
    """Add the next version of a named policy pack."""
    _require(actor, "policy", "policy packs")
    allowed_regions = list(allowed_regions)
    if not allowed_regions:
        raise ValidationError({"allowed_regions": "Choose at least one region where data may be processed."})
    unknown = set(data_classifications or []) - set(DataClassification.values)
    if unknown:
        raise ValidationError({"data_classifications": f"Unknown classifications: {', '.join(sorted(unknown))}."})
    if not all(isinstance(rule, str) and rule.strip() for rule in safety_requirements or []):
        raise ValidationError({"safety_requirements": "Each safety requirement is a line of text."})
    for tool in allowed_tools or []:
        if not isinstance(tool, dict) or not tool.get("tool"):
            raise ValidationError(
                {
                    "allowed_tools": 'Each tool needs a name, e.g. {"tool": "crm.lookup", "authorisation": "user-delegated"}.'
                }
            )
    with transaction.atomic():
        lock_name("policy_pack", name)
        number = (PolicyPack.objects.filter(name=name).aggregate(top=Max("version"))["top"] or 0) + 1
        pack = PolicyPack(
            name=name,
            version=number,
            description=description,
            safety_requirements=safety_requirements or [],
            allowed_tools=allowed_tools or [],
            data_classifications=data_classifications or [],
            created_by=actor,
        )
        return _save_and_audit(
            actor=actor,
            instance=pack,
            action="policy_pack.created",
            payload={
                "name": name,
                "version": number,
                "safety_requirements": pack.safety_requirements,
                "allowed_tools": pack.allowed_tools,
                "data_classifications": pack.data_classifications,
            },
            regions=allowed_regions,
            region_field="allowed_regions",
        )


def dataset_create(
    *, actor, name: str, version: str, uri: str, classification: str, owner: Team, description: str = ""
) -> Dataset:
    _require(actor, "dataset", "datasets")
    if not dataset_owner_choices(actor).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": f"You are not a member of {owner}: a dataset is owned by one of your teams."})
    with transaction.atomic():
        dataset = Dataset(
            name=name,
            version=version.strip(),
            uri=uri.strip(),
            classification=classification,
            owner=owner,
            description=description,
        )
        return _save_and_audit(
            actor=actor,
            instance=dataset,
            action="dataset.created",
            payload={
                "name": name,
                "version": dataset.version,
                "uri": dataset.uri,
                "classification": classification,
                "owner": owner.slug,
            },
        )
