"""What Gatehouse writes about a serious incident from its record: the drafts of the report to the market
surveillance authority (EU AI Act Art. 73) and the content of evidence snapshots.

Nothing here is typed by a person but the written parts of the report (``SeriousReport``): the feature, the
version live when the impact began and its configuration, the evaluations, the decisions of the impact
window (``incidents.extensions``), the timeline and the corrective actions all come from the record.

A draft is made *as of* a moment: the timeline, the evaluations, the decisions and the submissions it
lists are those recorded by then, so the same moment gives the same draft, byte for byte, until someone
changes what the record does not keep a history of (the incident's fields, the written parts). Its
SHA-256 is that of the JSON file served for download (``as_bytes``); a submission keeps the draft it sent.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from incidents.choices import (
    FREEZING_SEVERITIES,
    FREEZING_STATUSES,
    EventKind,
    IncidentStatus,
    SeriousCriterion,
)
from incidents.extensions import report_sections
from incidents.models import Incident, IncidentEvent, ReportSubmission, SeriousReport
from registry.models import Deployment, Evaluation, FeatureVersion
from registry.selectors import live_at
from registry.services import configuration_hash, version_configuration

DRAFT_SCHEMA = "gatehouse.serious-incident-report/1"
EVIDENCE_SCHEMA = "gatehouse.incident-evidence/1"
DRAFT_KINDS = ("initial", "complete")


# --- Bytes and digests ----------------------------------------------------------------------------


def as_bytes(content: dict) -> bytes:
    """The JSON file of a draft or a snapshot: keys sorted, indented, UTF-8; its SHA-256 is the content's."""
    return (json.dumps(content, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def digest(content: dict) -> str:
    return hashlib.sha256(as_bytes(content)).hexdigest()


# --- Small parts ----------------------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _person(user) -> str | None:
    if user is None:
        return None
    full = user.get_full_name()
    return f"{full} ({user.get_username()})" if full else user.get_username()


def _version_part(version: FeatureVersion | None) -> dict | None:
    if version is None:
        return None
    version = (
        FeatureVersion.objects.select_related("feature", "model__vendor", "prompt", "policy_pack", "parent")
        .prefetch_related("fallbacks__model__vendor", "dataset_links__dataset")
        .get(pk=version.pk)
    )
    configuration = version_configuration(version)
    return {
        "number": version.number,
        "change_summary": version.change_summary,
        "submitted_at": _when(version.submitted_at),
        "config_hash": version.config_hash or configuration_hash(configuration),
        "configuration": configuration,
    }


def _evaluations(version_ids, *, by: datetime) -> list[dict]:
    """The newest evaluation of each suite and metric (per region and language) of these versions, as
    recorded by ``by``."""
    newest: dict[tuple, Evaluation] = {}
    for evaluation in (
        Evaluation.objects.filter(version_id__in=list(version_ids), recorded_at__lte=by)
        .select_related("version", "region")
        .order_by("-run_at", "-id")
    ):
        key = (evaluation.version_id, evaluation.kind, evaluation.suite, evaluation.metric, evaluation.region_id)
        newest.setdefault((*key, evaluation.language), evaluation)
    return [
        {
            "version": evaluation.version.number,
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
            "artifact_url": evaluation.artifact_url,
        }
        for evaluation in sorted(
            newest.values(), key=lambda item: (-item.version.number, item.kind, item.suite, item.metric, item.pk)
        )
    ]


def _serious_part(incident: Incident) -> dict:
    return {
        "criteria": [
            {"value": value, "label": str(SeriousCriterion(value).label)}
            for value in incident.serious_criteria
            if value in SeriousCriterion.values
        ],
        "death": incident.serious_death,
        "widespread": incident.serious_widespread,
        "aware_at": _when(incident.aware_at),
        "report_days": incident.report_days,
        "report_due_at": _when(incident.report_due_at),
        "decided_by": _person(incident.serious_decided_by),
        "decided_at": _when(incident.serious_decided_at),
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
        "impact_end": _when(incident.impact_end),
        "detected_at": _when(incident.detected_at),
        "description": incident.description,
        "customer_impact": incident.customer_impact,
        "owner": _person(incident.owner),
        "reporter": _person(incident.reporter),
    }


def _feature_part(feature) -> dict:
    return {
        "slug": feature.slug,
        "name": feature.name,
        "purpose": feature.purpose,
        "team": feature.team.name,
        "risk_tier": feature.risk_tier,
        "intended_uses": feature.intended_uses,
        "disallowed_uses": feature.disallowed_uses,
        "accountable_owner": _person(feature.accountable_owner),
        "incident_owner": _person(feature.incident_owner),
        "regions": sorted(region.code for region in feature.regions.all()),
    }


def _window(incident: Incident, by: datetime) -> tuple[datetime, datetime]:
    end = incident.impact_end
    return incident.impact_start, min(end, by) if end else by


def _timeline(incident: Incident, by: datetime) -> list[IncidentEvent]:
    return list(incident.events.filter(at__lte=by).select_related("actor").order_by("at", "id"))


def _timeline_part(events: list[IncidentEvent]) -> list[dict]:
    return [
        {
            "at": _when(event.at),
            "kind": event.kind,
            "actor": _person(event.actor),
            "body": event.body,
            "payload": event.payload,
        }
        for event in events
    ]


def _freeze_periods(incident: Incident, events: list[IncidentEvent]) -> list[tuple[datetime, datetime | None]]:
    """When promotions of the feature were frozen by this incident (a SEV1/SEV2 open or investigating),
    replayed from the timeline: status changes and the severity an alert raised."""
    escalations = [event for event in events if isinstance(event.payload.get("severity"), list)]
    severity = escalations[0].payload["severity"][0] if escalations else incident.severity
    status = IncidentStatus.OPEN
    periods: list[tuple[datetime, datetime | None]] = []
    since = None
    for event in events:
        if event.kind == EventKind.STATUS and isinstance(event.payload.get("status"), list):
            status = event.payload["status"][-1]
        if isinstance(event.payload.get("severity"), list):
            severity = event.payload["severity"][-1]
        if event.kind == EventKind.ALERT and event.payload.get("status") == "firing" and "severity" in event.payload:
            if severity in FREEZING_SEVERITIES and status not in FREEZING_STATUSES:
                status = IncidentStatus.INVESTIGATING  # a freezing alert reopens it
        frozen = severity in FREEZING_SEVERITIES and status in FREEZING_STATUSES
        if frozen and since is None:
            since = event.at
        elif not frozen and since is not None:
            periods.append((since, event.at))
            since = None
    if since is not None:
        periods.append((since, None))
    return periods


def _corrective_actions(incident: Incident, events: list[IncidentEvent]) -> list[dict]:
    actions = []
    for start, end in _freeze_periods(incident, events):
        actions.append(
            {
                "at": _when(start),
                "kind": "freeze",
                "actor": None,
                "what": f"Promotions of {incident.feature.name} frozen while the incident was open"
                + (f", until {end.isoformat()}" if end else " (still frozen)"),
            }
        )
    for event in events:
        if event.kind == EventKind.ROLLBACK:
            actions.append(
                {
                    "at": _when(event.at),
                    "kind": "rollback",
                    "actor": _person(event.actor),
                    "what": f"Rolled back from v{event.payload.get('from_version')} to "
                    f"v{event.payload.get('to_version')} in {incident.environment}/{incident.region.code}: {event.body}",
                }
            )
        elif event.kind == EventKind.COMMENT and event.payload.get("corrective"):
            actions.append({"at": _when(event.at), "kind": "action", "actor": _person(event.actor), "what": event.body})
    return sorted(actions, key=lambda action: action["at"])


def _written_part(incident: Incident) -> dict:
    notes = SeriousReport.objects.filter(incident=incident).select_related("updated_by").first()
    written = {name: getattr(notes, name) if notes else "" for name in SeriousReport.WRITTEN_FIELDS}
    written["updated_by"] = _person(notes.updated_by) if notes else None
    written["updated_at"] = _when(notes.updated_at) if notes else None
    return written


def _submissions_part(incident: Incident, by: datetime) -> list[dict]:
    return [
        {
            "kind": submission.kind,
            "authority": submission.authority,
            "submitted_at": _when(submission.submitted_at),
            "reference": submission.reference,
            "content_sha256": submission.content_sha256,
        }
        for submission in ReportSubmission.objects.filter(incident=incident, recorded_at__lte=by).order_by(
            "submitted_at", "id"
        )
    ]


def _sections(incident: Incident, by: datetime) -> tuple[dict, list[dict]]:
    start, end = _window(incident, by)
    return {"start": _when(start), "end": _when(end), "open": incident.impact_end is None}, report_sections(
        incident, start=start, end=end
    )


# --- The draft of a report ----------------------------------------------------------------------


def report_draft(incident: Incident, *, kind: str, as_of: datetime) -> dict:
    """The ``kind`` ("initial" or "complete") draft of ``incident``'s report as of ``as_of``."""
    if kind not in DRAFT_KINDS:
        raise ValueError(f"Unknown draft {kind!r}")
    incident = (
        Incident.objects.select_related(
            "feature__team",
            "feature__accountable_owner",
            "feature__incident_owner",
            "region",
            "owner",
            "reporter",
            "serious_decided_by",
            "live_version",
            "live_event__actor",
        )
        .prefetch_related("feature__regions")
        .get(pk=incident.pk)
    )
    events = _timeline(incident, as_of)
    at_impact = _version_part(incident.live_version)
    if at_impact is not None and incident.live_event is not None:
        at_impact["live_since"] = _when(incident.live_event.at)
        at_impact["promoted_by"] = _person(incident.live_event.actor)
    then = live_at(feature=incident.feature, environment=incident.environment, region=incident.region, at=as_of)
    window, sections = _sections(incident, as_of)
    written = _written_part(incident)
    draft = {
        "schema": DRAFT_SCHEMA,
        "kind": kind,
        "as_of": _when(as_of),
        "incident": _incident_part(incident),
        "serious": _serious_part(incident),
        "feature": _feature_part(incident.feature),
        "version_at_impact": at_impact,
        "version_live_as_of": then.to_version.number if then else None,
        "evaluations": _evaluations([incident.live_version_id] if incident.live_version_id else [], by=as_of),
        "impact_window": window,
        "sections": sections,
        "timeline": _timeline_part(events),
        "corrective_actions": _corrective_actions(incident, events),
        "written": written,
        "earlier_submissions": _submissions_part(incident, as_of),
    }
    if kind == "complete":
        draft["resolution"] = {
            "status": incident.status,
            "mitigated_at": _when(incident.mitigated_at),
            "resolved_at": _when(incident.resolved_at),
            "closed_at": _when(incident.closed_at),
            "root_cause": incident.root_cause,
            "follow_ups": [line.strip() for line in incident.follow_ups.splitlines() if line.strip()],
            "postmortem_url": incident.postmortem_url,
        }
    draft["gaps"] = _gaps(incident, kind, written)
    return draft


def _gaps(incident: Incident, kind: str, written: dict) -> list[str]:
    """What the draft still lacks, in words, for whoever sends it."""
    gaps = []
    if not written["affected_persons"]:
        gaps.append("Who was affected, and how, is not written yet.")
    if not written["root_cause"] and not incident.root_cause:
        gaps.append("No cause is written yet (not even as far as it is known).")
    if not written["corrective_actions_planned"]:
        gaps.append("The corrective actions planned are not written yet.")
    if kind == "complete":
        if incident.status not in (IncidentStatus.RESOLVED, IncidentStatus.CLOSED):
            gaps.append(f"The incident is {incident.get_status_display().lower()}, not resolved.")
        if not incident.root_cause:
            gaps.append("The incident has no root cause recorded (set when it is resolved or closed).")
    return gaps


# --- The content of an evidence snapshot --------------------------------------------------------


def evidence_content(
    incident: Incident, *, taken_at: datetime, taken_by, trigger: str, note: str = "", rollback: dict | None = None
) -> dict:
    """What the record holds about ``incident`` at ``taken_at``: every live pointer of its feature with the
    version's full configuration, the version live when the impact began, the newest evaluations of those
    versions, and the sections of the impact window (the decisions resolve recorded)."""
    deployments = list(
        Deployment.objects.filter(feature=incident.feature)
        .select_related("region", "version", "updated_by")
        .order_by("environment", "region__code")
    )
    versions = {deployment.version_id: deployment.version for deployment in deployments}
    if incident.live_version_id:
        versions.setdefault(incident.live_version_id, incident.live_version)
    parts = {pk: _version_part(version) for pk, version in versions.items()}
    window, sections = _sections(incident, taken_at)
    return {
        "schema": EVIDENCE_SCHEMA,
        "taken_at": _when(taken_at),
        "taken_by": _person(taken_by),
        "trigger": trigger,
        "note": note,
        "rollback": rollback,
        "incident": {**_incident_part(incident), "serious": _serious_part(incident) if incident.is_serious else None},
        "feature": {"slug": incident.feature.slug, "name": incident.feature.name},
        "live": [
            {
                "environment": deployment.environment,
                "region": deployment.region.code,
                "incident_pointer": deployment.environment == incident.environment
                and deployment.region_id == incident.region_id,
                "version": deployment.version.number,
                "since": _when(deployment.updated_at),
                "set_by": _person(deployment.updated_by),
            }
            for deployment in deployments
        ],
        "versions": sorted((part for part in parts.values() if part), key=lambda part: part["number"], reverse=True),
        "version_at_impact": incident.live_version.number if incident.live_version_id else None,
        "evaluations": _evaluations(list(versions), by=taken_at),
        "impact_window": window,
        "sections": sections,
    }
