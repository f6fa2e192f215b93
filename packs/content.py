"""What an evidence pack says: one dict, the same for JSON, HTML and PDF.

A pack covers a feature and every version of it, or one version (with its lineage). It holds the feature's
record, each version's configuration hash and pins, its evaluations, its gate requests with every sign-off,
the deployment history, the feature's incidents and the audit excerpt about them, with the result of
verifying the whole audit chain (``registry.services.audit_verify``, as ``manage.py audit_verify``).

Every part is read with a fixed number of queries, whatever the number of versions, requests or events.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Prefetch, Q
from django.utils import timezone

from approvals.models import ApprovalRequest, SignOff
from incidents.models import Incident
from packs.choices import PACK_SCHEMA
from registry.models import (
    AIFeature,
    AuditEvent,
    DeploymentEvent,
    Evaluation,
    FeatureVersion,
    VersionDataset,
    VersionFallback,
)
from registry.services import audit_verify
from registry.services.audit_checkpoint import audit_checkpoint_take

PACK_PROBLEMS_LISTED = 20

Progress = Callable[[int, str], None]


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _user(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def _feature_part(feature: AIFeature) -> dict:
    return {
        "slug": feature.slug,
        "name": feature.name,
        "purpose": feature.purpose,
        "team": {"slug": feature.team.slug, "name": feature.team.name},
        "risk_tier": feature.risk_tier,
        "status": feature.status,
        "restricted": feature.restricted,
        "regions": [region.code for region in feature.regions.all()],
        "data_classification": feature.data_classification,
        "accountable_owner": _user(feature.accountable_owner),
        "incident_owner": _user(feature.incident_owner),
        "escalation_path": feature.escalation_path,
        "intended_uses": feature.intended_uses,
        "disallowed_uses": feature.disallowed_uses,
        "slos": feature.slo_lines,
        "monitors": feature.monitor_links,
        "operational_fallback": feature.operational_fallback,
        "rollback_path": feature.rollback_path,
        "stop_expansion_criteria": feature.stop_expansion_criteria,
    }


def _versions(feature: AIFeature) -> list[FeatureVersion]:
    """Every version of the feature (a version's lineage needs them all), with its pins, in two handfuls of queries."""
    versions = (
        FeatureVersion.objects.filter(feature=feature)
        .select_related("model", "model__vendor", "prompt", "policy_pack", "parent", "author", "submitted_by")
        .prefetch_related(
            Prefetch("fallbacks", queryset=VersionFallback.objects.select_related("model", "model__vendor")),
            Prefetch("dataset_links", queryset=VersionDataset.objects.select_related("dataset")),
            "policy_pack__allowed_regions",
        )
        .order_by("number")
    )
    return list(versions)


def _lineage(version: FeatureVersion, by_id: dict[int, FeatureVersion]) -> list[dict]:
    """The parent chain, nearest first, to the first version (a cycle cannot happen, but stops anyway)."""
    chain, seen, parent_id = [], {version.pk}, version.parent_id
    while parent_id and parent_id not in seen and parent_id in by_id:
        parent = by_id[parent_id]
        chain.append(
            {"number": parent.number, "config_hash": parent.config_hash, "change_summary": parent.change_summary}
        )
        seen.add(parent_id)
        parent_id = parent.parent_id
    return chain


def _version_part(version: FeatureVersion, by_id: dict[int, FeatureVersion]) -> dict:
    return {
        "number": version.number,
        "status": version.status,
        "config_hash": version.config_hash,
        "parent": version.parent.number if version.parent_id else None,
        "lineage": _lineage(version, by_id),
        "change_summary": version.change_summary,
        "author": _user(version.author),
        "created_at": _when(version.created_at),
        "submitted_at": _when(version.submitted_at),
        "submitted_by": _user(version.submitted_by),
        "model": {
            "vendor": version.model.vendor.name,
            "identifier": version.model.identifier,
            "status": version.model.status,
        },
        "fallback_models": [
            {"position": link.position, "vendor": link.model.vendor.name, "identifier": link.model.identifier}
            for link in sorted(version.fallbacks.all(), key=lambda link: link.position)
        ],
        "prompt": {
            "name": version.prompt.name,
            "version": version.prompt.version,
            "content_hash": version.prompt.content_hash,
        },
        "policy_pack": {
            "name": version.policy_pack.name,
            "version": version.policy_pack.version,
            "allowed_regions": sorted(region.code for region in version.policy_pack.allowed_regions.all()),
        },
        "retrieval_index": version.retrieval_index,
        "tools": version.tools,
        "parameters": version.parameters,
        "datasets": [
            {
                "name": link.dataset.name,
                "version": link.dataset.version,
                "usage": link.usage,
                "classification": link.dataset.classification,
                "uri": link.dataset.uri,
            }
            for link in version.dataset_links.all()
        ],
        "evaluations": [],
        "gate_requests": [],
    }


def _evaluation_part(evaluation: Evaluation) -> dict:
    return {
        "kind": evaluation.kind,
        "suite": evaluation.suite,
        "metric": evaluation.metric,
        "score": evaluation.score,
        "threshold": evaluation.threshold,
        "higher_is_better": evaluation.higher_is_better,
        "passed": evaluation.passed,
        "region": evaluation.region.code if evaluation.region_id else None,
        "language": evaluation.language,
        "run_at": _when(evaluation.run_at),
        "recorded_by": _user(evaluation.recorded_by),
        "artifact_url": evaluation.artifact_url,
    }


def _request_part(request: ApprovalRequest) -> dict:
    return {
        "id": request.pk,
        "gate": request.gate,
        "environment": request.environment,
        "regions": sorted(region.code for region in request.regions.all()),
        "status": request.status,
        "requester": _user(request.requester),
        "note": request.note,
        "created_at": _when(request.created_at),
        "decided_at": _when(request.decided_at),
        "expires_at": _when(request.expires_at),
        "signoffs": [
            {
                "role": signoff.role,
                "slot": signoff.slot,
                "decision": signoff.status,
                "signer": _user(signoff.signer),
                "reason": signoff.reason,
                "decided_at": _when(signoff.decided_at),
            }
            for signoff in request.signoffs.all()
        ],
    }


def _deployment_event_part(event: DeploymentEvent) -> dict:
    return {
        "at": _when(event.at),
        "kind": event.kind,
        "environment": event.environment,
        "region": event.region.code,
        "from_version": event.from_version.number if event.from_version_id else None,
        "to_version": event.to_version.number if event.to_version_id else None,
        "actor": _user(event.actor),
        "reason": event.reason,
        "approval_request": event.approval_request_id,
        "incident": f"INC-{event.incident_id}" if event.incident_id else None,
    }


def _incident_part(incident: Incident) -> dict:
    return {
        "reference": incident.reference,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "environment": incident.environment,
        "region": incident.region.code,
        "impact_start": _when(incident.impact_start),
        "detected_at": _when(incident.detected_at),
        "mitigated_at": _when(incident.mitigated_at),
        "resolved_at": _when(incident.resolved_at),
        "closed_at": _when(incident.closed_at),
        "live_version": incident.live_version.number if incident.live_version_id else None,
        "owner": _user(incident.owner),
        "customer_impact": incident.customer_impact,
        "root_cause": incident.root_cause,
        "follow_ups": incident.follow_ups,
    }


def _audit_part(event: AuditEvent) -> dict:
    return {
        "sequence": event.sequence,
        "at": _when(event.at),
        "actor": event.actor_name,
        "source": event.source,
        "action": event.action,
        "object": f"{event.object_type}:{event.object_id}",
        "object_repr": event.object_repr,
        "payload": event.payload,
        "hash": event.hash,
    }


def _version_audit_filter(version: FeatureVersion, request_ids, signoff_ids, evaluation_ids) -> Q:
    """The events about one version: it, its evidence, its gate requests and sign-offs, its packs, the
    feature itself and its deployments (whose history names the versions moved)."""
    return (
        Q(object_type="featureversion", object_id=str(version.pk))
        | Q(object_type="evaluation", object_id__in=[str(pk) for pk in evaluation_ids])
        | Q(object_type="approvalrequest", object_id__in=[str(pk) for pk in request_ids])
        | Q(object_type="signoff", object_id__in=[str(pk) for pk in signoff_ids])
        | Q(object_type__in=["aifeature", "deployment"])
        | Q(object_type="packexport", payload__version=version.number)
    )


def verification_part() -> dict:
    """Anchor the chain now, verify the whole of it, and say which range holds and what does not.

    A fresh signed checkpoint is taken first (and published like beat's: anchor file, webhook stream), so
    every pack carries a signed statement of the chain it was made from. ``last_sequence`` is the end of
    the range that holds: up to the first bad event, or the newest event when all hold.
    """
    checkpoint, anchored = audit_checkpoint_take()
    result = audit_verify()
    bad = [problem.sequence for problem in result.problems if problem.sequence is not None]
    last_verified = (min(bad) - 1) if bad else (result.last_sequence or 0)
    return {
        "holds": result.ok,
        "message": result.message,
        "checked": result.checked,
        "first_sequence": 1 if last_verified else None,
        "last_sequence": last_verified or None,
        "broken_sequence": min(bad) if bad else None,
        "problem_count": result.problem_count,
        "problems": [problem.message for problem in result.problems[:PACK_PROBLEMS_LISTED]],
        "checkpoints_checked": result.checkpoints,
        "checkpoint": {**checkpoint.as_dict(), "anchored": anchored},
        "verified_at": _when(timezone.now()),
    }


def evidence_pack_content(
    *, feature: AIFeature, version: FeatureVersion | None = None, generated_by=None, progress: Progress | None = None
) -> dict:
    """The pack as one JSON-ready dict. ``progress(percent, step)`` hears how far it is."""
    report = progress or (lambda percent, step: None)

    report(5, "Reading the feature and its versions")
    feature = (
        AIFeature.objects.select_related("team", "accountable_owner", "incident_owner")
        .prefetch_related("regions")
        .get(pk=feature.pk)
    )
    all_versions = _versions(feature)
    by_id = {item.pk: item for item in all_versions}
    chosen = [by_id[version.pk]] if version is not None else all_versions
    parts = {item.pk: _version_part(item, by_id) for item in chosen}
    version_ids = list(parts)

    report(20, "Collecting evaluations")
    evaluations = list(
        Evaluation.objects.filter(version_id__in=version_ids)
        .select_related("region", "recorded_by")
        .order_by("run_at", "id")
    )
    for evaluation in evaluations:
        parts[evaluation.version_id]["evaluations"].append(_evaluation_part(evaluation))

    report(35, "Collecting gate requests and sign-offs")
    requests = list(
        ApprovalRequest.objects.filter(version_id__in=version_ids)
        .select_related("requester")
        .prefetch_related(
            "regions",
            Prefetch("signoffs", queryset=SignOff.objects.select_related("signer").order_by("role", "slot", "id")),
        )
        .order_by("created_at", "id")
    )
    for request in requests:
        parts[request.version_id]["gate_requests"].append(_request_part(request))

    report(50, "Collecting the deployment history")
    events = (
        DeploymentEvent.objects.filter(feature=feature)
        .select_related("region", "from_version", "to_version", "actor")
        .order_by("at", "id")
    )
    if version is not None:
        events = events.filter(Q(to_version=version) | Q(from_version=version))
    deployments = [_deployment_event_part(event) for event in events]

    report(60, "Collecting incidents")
    incidents = [
        _incident_part(incident)
        for incident in Incident.objects.filter(feature=feature)
        .select_related("region", "live_version", "owner")
        .order_by("impact_start", "id")
    ]

    report(70, "Collecting the audit excerpt")
    audit_events = AuditEvent.objects.filter(feature=feature).order_by("sequence")
    if version is not None:
        audit_events = audit_events.filter(
            _version_audit_filter(
                version,
                [request.pk for request in requests],
                [signoff.pk for request in requests for signoff in request.signoffs.all()],
                [evaluation.pk for evaluation in evaluations],
            )
        )
    excerpt = [_audit_part(event) for event in audit_events.iterator(chunk_size=2000)]

    report(80, "Verifying the audit chain")
    verification = verification_part()
    last_verified = verification["last_sequence"] or 0
    verification["excerpt_within_verified_range"] = all(event["sequence"] <= last_verified for event in excerpt)

    return {
        "schema": PACK_SCHEMA,
        "generated_at": _when(timezone.now()),
        "generated_by": _user(generated_by),
        "scope": "version" if version is not None else "feature",
        "feature": _feature_part(feature),
        "versions": [parts[pk] for pk in version_ids],
        "deployment_history": deployments,
        "incidents": incidents,
        "audit": {"events": excerpt, "verification": verification},
        "summary": {
            "versions": len(version_ids),
            "evaluations": len(evaluations),
            "gate_requests": len(requests),
            "signoffs": sum(len(request.signoffs.all()) for request in requests),
            "deployment_events": len(deployments),
            "incidents": len(incidents),
            "audit_events": len(excerpt),
        },
    }


def technical_file_retain_until(feature: AIFeature):
    """How long a technical file exported now is kept: its profile's retention period (10 years unless set)."""
    from compliance.choices import DEFAULT_RETENTION_YEARS
    from compliance.selectors import profile_of

    profile = profile_of(feature)
    years = profile.retention_years if profile else DEFAULT_RETENTION_YEARS
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def technical_file_content(
    *, feature: AIFeature, version: FeatureVersion | None = None, generated_by=None, progress: Progress | None = None
) -> dict:
    """The technical file (``compliance.technical_file``) with the audit chain's verification, as a pack."""
    from compliance.technical_file import technical_file

    report = progress or (lambda percent, step: None)
    report(10, "Filling the nine sections from the registry")
    content = technical_file(feature, version)
    report(70, "Verifying the audit chain")
    content["generated_by"] = _user(generated_by)
    content["audit"] = {"verification": verification_part()}
    return content
