"""Feature versions: drafted, changed while draft, submitted (locked and hashed), evidenced."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.exceptions import Conflict
from registry.choices import (
    VERSION_TRANSITIONS,
    DatasetUsage,
    FeatureStatus,
    ModelStatus,
    VendorStatus,
    VersionStatus,
)
from registry.models import (
    AIFeature,
    CatalogModel,
    Dataset,
    Evaluation,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    Region,
    VersionDataset,
    VersionFallback,
)
from registry.permissions import can_edit_feature
from registry.services.audit import NotCanonical, audit_record, canonical, changes
from registry.signals import evaluation_recorded

DatasetLink = tuple[Dataset, str]


# --- Canonical configuration and its hash -----------------------------------------------------


def version_configuration(version: FeatureVersion) -> dict[str, Any]:
    """The configuration a version pins, in a canonical form: what is hashed, diffed and exported."""
    model = version.model
    return {
        "feature": version.feature.slug,
        "number": version.number,
        "parent": version.parent.number if version.parent_id else None,
        "model": {"vendor": model.vendor.slug, "identifier": model.identifier},
        "fallback_models": [
            {"vendor": link.model.vendor.slug, "identifier": link.model.identifier}
            for link in sorted(version.fallbacks.all(), key=lambda link: link.position)
        ],
        "prompt": {
            "name": version.prompt.name,
            "version": version.prompt.version,
            "content_hash": version.prompt.content_hash,
        },
        "policy_pack": {"name": version.policy_pack.name, "version": version.policy_pack.version},
        "retrieval_index": version.retrieval_index,
        "tools": sorted(
            ({"name": tool["name"], "scopes": sorted(tool.get("scopes", []))} for tool in version.tools),
            key=lambda tool: tool["name"],
        ),
        "datasets": sorted(
            (
                {"name": link.dataset.name, "version": link.dataset.version, "usage": link.usage}
                for link in version.dataset_links.all()
            ),
            key=lambda item: (item["usage"], item["name"], item["version"]),
        ),
        "parameters": version.parameters,
    }


# Which version this is, not what it runs: left out of the hash, so two versions that pin the same
# configuration share a hash ("is this the same configuration as the one approved?").
IDENTITY_KEYS = frozenset({"feature", "number", "parent"})


def configuration_hash(configuration: dict[str, Any]) -> str:
    pinned = {key: value for key, value in configuration.items() if key not in IDENTITY_KEYS}
    body = json.dumps(pinned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# --- Validation shared by create and update --------------------------------------------------------


def _clean_tools(tools: Any) -> list[dict[str, Any]]:
    if tools in (None, ""):
        return []
    if not isinstance(tools, list):
        raise ValidationError({"tools": 'Tools must be a list such as [{"name": "crm.lookup", "scopes": ["read"]}].'})
    cleaned = []
    seen = set()
    for index, tool in enumerate(tools, start=1):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"].strip():
            raise ValidationError({"tools": f"Tool {index} needs a name."})
        scopes = tool.get("scopes", [])
        if not isinstance(scopes, list) or not all(isinstance(scope, str) and scope.strip() for scope in scopes):
            raise ValidationError({"tools": f"The scopes of {tool['name']} must be a list of names."})
        name = tool["name"].strip()
        if name in seen:
            raise ValidationError({"tools": f"{name} is listed twice."})
        seen.add(name)
        cleaned.append({"name": name, "scopes": [scope.strip() for scope in scopes]})
    return cleaned


def _clean_parameters(parameters: Any) -> dict[str, Any]:
    if parameters in (None, ""):
        return {}
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": 'Parameters must be an object such as {"temperature": 0.2}.'})
    try:
        json.dumps(parameters, allow_nan=False)
        # Kept as the database gives them back (-0.0 as 0.0, 1e16 and beyond as integers), so the
        # configuration hash and the audit trail see the same numbers before and after storing.
        return canonical(parameters)
    except ValueError:
        raise ValidationError({"parameters": "Parameters must be finite numbers (no NaN or Infinity)."}) from None


def _check_model_usable(model: CatalogModel, *, field: str) -> None:
    if model.status == ModelStatus.SUSPENDED:
        raise ValidationError({field: f"{model} is suspended and cannot be pinned."})
    if model.vendor.status == VendorStatus.SUSPENDED:
        raise ValidationError({field: f"{model.vendor} is suspended; its model {model} cannot be pinned."})


def _clean_fallbacks(primary: CatalogModel, fallbacks: Sequence[CatalogModel]) -> list[CatalogModel]:
    seen: set[int] = set()
    for model in fallbacks:
        if model.pk == primary.pk:
            raise ValidationError({"fallback_models": f"{model} is the primary model; it cannot also be a fallback."})
        if model.pk in seen:
            raise ValidationError({"fallback_models": f"{model} is listed twice."})
        seen.add(model.pk)
        _check_model_usable(model, field="fallback_models")
    return list(fallbacks)


def _clean_datasets(links: Iterable[DatasetLink]) -> list[DatasetLink]:
    cleaned = []
    seen = set()
    for dataset, usage in links:
        if usage not in DatasetUsage.values:
            raise ValidationError({"datasets": f"{usage!r} is not a dataset use ({', '.join(DatasetUsage.values)})."})
        if (dataset.pk, usage) in seen:
            raise ValidationError({"datasets": f"{dataset} is linked twice for {usage}."})
        seen.add((dataset.pk, usage))
        cleaned.append((dataset, usage))
    return cleaned


def _write_links(version: FeatureVersion, fallbacks: list[CatalogModel], datasets: list[DatasetLink]) -> None:
    version.fallbacks.all().delete()
    VersionFallback.objects.bulk_create(
        VersionFallback(version=version, model=model, position=position)
        for position, model in enumerate(fallbacks, start=1)
    )
    version.dataset_links.all().delete()
    VersionDataset.objects.bulk_create(
        VersionDataset(version=version, dataset=dataset, usage=usage) for dataset, usage in datasets
    )


def _require_editor(actor, feature: AIFeature) -> None:
    if not can_edit_feature(actor, feature):
        raise PermissionDenied(f"Only the team that owns {feature} and governance admins may change its versions.")


# --- Writes -------------------------------------------------------------------------------


def version_create(
    *,
    actor,
    feature: AIFeature,
    model: CatalogModel,
    prompt: PromptVersion,
    policy_pack: PolicyPack,
    change_summary: str,
    fallback_models: Sequence[CatalogModel] = (),
    datasets: Iterable[DatasetLink] = (),
    tools: Any = None,
    parameters: Any = None,
    retrieval_index: str = "",
    parent: FeatureVersion | None = None,
) -> FeatureVersion:
    """Draft the next version of a feature. Its number is the next free one for the feature."""
    _require_editor(actor, feature)
    if not change_summary or not change_summary.strip():
        raise ValidationError({"change_summary": "Say what this version changes and why."})
    _check_model_usable(model, field="model")
    fallbacks = _clean_fallbacks(model, fallback_models)
    dataset_links = _clean_datasets(datasets)
    tools = _clean_tools(tools)
    parameters = _clean_parameters(parameters)
    if parent is not None and parent.feature_id != feature.pk:
        raise ValidationError({"parent": "The parent must be a version of the same feature."})
    with transaction.atomic():
        locked_feature = AIFeature.objects.select_for_update().get(pk=feature.pk)
        if locked_feature.status == FeatureStatus.RETIRED:
            raise Conflict(f"{locked_feature} is retired; it takes no new versions.")
        number = (locked_feature.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        if parent is None and number > 1:
            parent = locked_feature.versions.get(number=number - 1)
        version = FeatureVersion(
            feature=locked_feature,
            number=number,
            model=model,
            prompt=prompt,
            policy_pack=policy_pack,
            retrieval_index=retrieval_index.strip(),
            tools=tools,
            parameters=parameters,
            parent=parent,
            change_summary=change_summary.strip(),
            author=actor,
        )
        version.full_clean()
        version.save()
        _write_links(version, fallbacks, dataset_links)
        audit_record(
            actor=actor,
            action="version.created",
            target=version,
            feature=locked_feature,
            payload={"new": version_configuration(version), "change_summary": version.change_summary},
        )
    return version


def version_update(
    *,
    actor,
    version: FeatureVersion,
    fallback_models: Sequence[CatalogModel] | None = None,
    datasets: Iterable[DatasetLink] | None = None,
    **fields: Any,
) -> FeatureVersion:
    """Change a draft. A submitted version is immutable: this refuses, and says to make a new one."""
    allowed = {"model", "prompt", "policy_pack", "retrieval_index", "tools", "parameters", "change_summary", "parent"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
    _require_editor(actor, version.feature)
    with transaction.atomic():
        locked = FeatureVersion.objects.select_for_update(of=("self",)).select_related("feature").get(pk=version.pk)
        if locked.status != VersionStatus.DRAFT:
            raise Conflict(
                f"{locked} is {locked.get_status_display().lower()} and can no longer change. "
                "Create a new version instead."
            )
        before = version_configuration(locked)
        if "tools" in fields:
            fields["tools"] = _clean_tools(fields["tools"])
        if "parameters" in fields:
            fields["parameters"] = _clean_parameters(fields["parameters"])
        if "change_summary" in fields and not (fields["change_summary"] or "").strip():
            raise ValidationError({"change_summary": "Say what this version changes and why."})
        parent = fields.get("parent")
        if parent is not None and (parent.feature_id != locked.feature_id or parent.number >= locked.number):
            raise ValidationError({"parent": "The parent must be an earlier version of the same feature."})
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        if "model" in fields:
            _check_model_usable(locked.model, field="model")
        fallbacks = _clean_fallbacks(
            locked.model,
            fallback_models if fallback_models is not None else [link.model for link in locked.fallbacks.all()],
        )
        dataset_links = (
            _clean_datasets(datasets)
            if datasets is not None
            else [(link.dataset, link.usage) for link in locked.dataset_links.all()]
        )
        locked.full_clean()
        locked.save()
        _write_links(locked, fallbacks, dataset_links)
        after = version_configuration(locked)
        diff = changes(before, after)
        if diff or "change_summary" in fields:
            audit_record(
                actor=actor,
                action="version.updated",
                target=locked,
                feature=locked.feature,
                payload={"changes": diff, "change_summary": locked.change_summary},
            )
    return locked


def _transition(locked: FeatureVersion, new_status: str) -> None:
    if new_status not in VERSION_TRANSITIONS[locked.status]:
        raise Conflict(
            f"{locked} is {locked.get_status_display().lower()}; it cannot become {VersionStatus(new_status).label.lower()}."
        )


def version_submit(*, actor, version: FeatureVersion) -> FeatureVersion:
    """Lock a draft for review: from here it is immutable and carries its configuration hash."""
    _require_editor(actor, version.feature)
    with transaction.atomic():
        locked = (
            FeatureVersion.objects.select_for_update(of=("self",))
            .select_related("feature", "model", "model__vendor", "prompt", "policy_pack", "parent")
            .get(pk=version.pk)
        )
        _transition(locked, VersionStatus.SUBMITTED)
        _check_model_usable(locked.model, field="model")
        for link in locked.fallbacks.select_related("model", "model__vendor"):
            _check_model_usable(link.model, field="fallback_models")
        configuration = version_configuration(locked)
        locked.status = VersionStatus.SUBMITTED
        locked.config_hash = configuration_hash(configuration)
        locked.submitted_at = timezone.now()
        locked.submitted_by = actor
        locked.save(update_fields=["status", "config_hash", "submitted_at", "submitted_by"])
        audit_record(
            actor=actor,
            action="version.submitted",
            target=locked,
            feature=locked.feature,
            payload={"status": [VersionStatus.DRAFT, VersionStatus.SUBMITTED], "config_hash": locked.config_hash},
        )
    return locked


def version_retire(*, actor, version: FeatureVersion, reason: str) -> FeatureVersion:
    """Take a submitted version out of use for new requests. It stays in the record; a live one cannot retire."""
    _require_editor(actor, version.feature)
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the version is retired."})
    with transaction.atomic():
        # The feature row first, as promotion does: a retire and a promotion of it cannot interleave.
        AIFeature.objects.select_for_update().get(pk=version.feature_id)
        locked = FeatureVersion.objects.select_for_update(of=("self",)).select_related("feature").get(pk=version.pk)
        _transition(locked, VersionStatus.RETIRED)
        live = list(locked.deployments.values_list("environment", "region__code"))
        if live:
            where = ", ".join(f"{environment}/{region}" for environment, region in live)
            raise Conflict(f"{locked} is live ({where}); promote or roll back to another version first.")
        previous = locked.status
        locked.status = VersionStatus.RETIRED
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action="version.retired",
            target=locked,
            feature=locked.feature,
            payload={"status": [previous, VersionStatus.RETIRED], "reason": reason.strip()},
        )
    return locked


# --- Evidence ------------------------------------------------------------------------------


def evaluation_record(
    *,
    actor,
    version: FeatureVersion,
    kind: str,
    suite: str,
    metric: str,
    score: float,
    threshold: float,
    run_at,
    higher_is_better: bool = True,
    region: Region | None = None,
    language: str = "",
    artifact_url: str = "",
    notes: str = "",
) -> Evaluation:
    """Attach a piece of evidence to a version. Whether it passed follows from score and threshold."""
    _require_editor(actor, version.feature)
    if run_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"run_at": "An evaluation cannot have run in the future."})
    try:
        # As the database and the audit trail keep them: -0.0 is 0.0; NaN and infinity are no scores.
        score, threshold = canonical(float(score)), canonical(float(threshold))
    except (NotCanonical, TypeError, ValueError):
        raise ValidationError({"score": "Score and threshold must be finite numbers."}) from None
    with transaction.atomic():
        locked = FeatureVersion.objects.select_for_update(of=("self",)).select_related("feature").get(pk=version.pk)
        if locked.status == VersionStatus.RETIRED:
            raise Conflict(f"{locked} is retired; it takes no new evidence.")
        evaluation = Evaluation(
            version=locked,
            kind=kind,
            suite=suite.strip(),
            metric=metric.strip(),
            score=score,
            threshold=threshold,
            higher_is_better=higher_is_better,
            passed=Evaluation.score_passes(score=score, threshold=threshold, higher_is_better=higher_is_better),
            region=region,
            language=language.strip(),
            run_at=run_at,
            artifact_url=artifact_url.strip(),
            notes=notes.strip(),
            recorded_by=actor,
        )
        evaluation.full_clean()
        evaluation.save()
        audit_record(
            actor=actor,
            action="evaluation.recorded",
            target=evaluation,
            feature=locked.feature,
            payload={
                "version": locked.number,
                "kind": kind,
                "suite": evaluation.suite,
                "metric": evaluation.metric,
                "score": score,
                "threshold": threshold,
                "passed": evaluation.passed,
                "run_at": run_at,
                "region": region.code if region else None,
            },
        )
        evaluation_recorded.send(sender=Evaluation, evaluation=evaluation, actor=actor)
    return evaluation
