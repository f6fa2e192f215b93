"""Every write of the incidents app. Lock order: the incident row, then (for a rollback) what the
registry locks; the audit chain last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.exceptions import Conflict
from incidents.choices import (
    DRAFT_KINDS,
    ESCALATED_STAGES,
    FREEZING_SEVERITIES,
    FREEZING_STATUSES,
    INCIDENT_TRANSITIONS,
    SEVERITIES_NEEDING_ROOT_CAUSE,
    EventKind,
    IncidentSource,
    IncidentStatus,
    ReminderStage,
    ReportKind,
    SeriousCriterion,
    Severity,
    SnapshotTrigger,
)
from incidents.models import EvidenceSnapshot, Incident, IncidentEvent, ReportSubmission, SeriousReport
from incidents.permissions import can_open_incident, can_open_severity, can_report_incident, can_work_incident
from incidents.reports import digest, evidence_content, report_draft
from registry.choices import Environment, Role
from registry.models import AIFeature, FeatureVersion, Region
from registry.permissions import owner_refusal
from registry.selectors import features_visible_to, live_at, people_who_see, role_holders
from registry.services import audit_record, deployment_rollback, notify, system_user


def _event(
    incident: Incident,
    *,
    kind: str,
    actor=None,
    body: str = "",
    payload: dict | None = None,
    deployment_event=None,
    at: datetime | None = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        body=body,
        payload=payload or {},
        deployment_event=deployment_event,
        at=at or timezone.now(),
    )


def _live_summary(event) -> dict:
    if event is None:
        return {}
    version = event.to_version
    return {
        "version": version.number,
        "model": f"{version.model.vendor.slug}/{version.model.identifier}",
        "prompt": str(version.prompt),
        "policy_pack": str(version.policy_pack),
        "live_since": event.at.isoformat(),
        "promoted_by": event.actor.username,
    }


def incident_open(
    *,
    actor,
    feature: AIFeature,
    environment: str,
    region: Region,
    severity: str,
    impact_start: datetime,
    title: str,
    description: str,
    customer_impact: str = "",
    detected_at: datetime | None = None,
    source: str = IncidentSource.MANUAL,
    alert_fingerprint: str = "",
) -> Incident:
    """Open an incident: fill in the version that was live at impact start and tell its owners."""
    if not can_open_incident(actor) or not features_visible_to(actor).filter(pk=feature.pk).exists():
        raise PermissionDenied("You cannot log incidents for this feature.")
    if environment not in Environment.values:
        raise ValidationError({"environment": f"Unknown environment {environment!r}."})
    if severity not in Severity.values:
        raise ValidationError({"severity": "Choose SEV1 to SEV4."})
    if not can_open_severity(actor, feature, severity):
        raise PermissionDenied(
            "A SEV1 or SEV2 freezes the feature's promotions: support, the owning team or governance open those. "
            "Log it as SEV3 and they will raise it if needed."
        )
    if not feature.regions.filter(pk=region.pk).exists():
        raise ValidationError({"region": f"{feature} does not serve {region.code}."})
    now = timezone.now()
    detected_at = detected_at or now
    if impact_start > now + timedelta(minutes=5):
        raise ValidationError({"impact_start": "Impact cannot start in the future."})
    if detected_at < impact_start:
        raise ValidationError({"impact_start": "Impact must start before it was detected."})
    if not title.strip() or not description.strip():
        raise ValidationError({"title": "Give the incident a title and a description."})
    return _open(
        actor=actor,
        reporter=actor,
        feature=feature,
        environment=environment,
        region=region,
        severity=severity,
        impact_start=impact_start,
        detected_at=detected_at,
        title=title,
        description=description,
        customer_impact=customer_impact,
        source=source,
        alert_fingerprint=alert_fingerprint,
    )


def incident_open_governance(
    *,
    feature: AIFeature,
    environment: str,
    region: Region,
    impact_start: datetime,
    title: str,
    description: str,
    source: str = IncidentSource.FRESHNESS,
) -> Incident:
    """Gatehouse itself opens a SEV3 governance incident (e.g. evidence stale past its grace period).

    No person acts, so no permission applies: the audit names the system, the reporter is the system
    account, and the feature's owners are told as for any incident. SEV3 does not freeze promotions:
    the finding that caused it already blocks them.
    """
    return _open(
        actor=None,
        reporter=system_user(),
        feature=feature,
        environment=environment,
        region=region,
        severity=Severity.SEV3,
        impact_start=impact_start,
        detected_at=timezone.now(),
        title=title,
        description=description,
        customer_impact="",
        source=source,
        alert_fingerprint="",
    )


def _open(
    *,
    actor,
    reporter,
    feature,
    environment,
    region,
    severity,
    impact_start,
    detected_at,
    title,
    description,
    customer_impact,
    source,
    alert_fingerprint,
) -> Incident:
    live = live_at(feature=feature, environment=environment, region=region, at=impact_start)
    with transaction.atomic():
        incident = Incident(
            title=title.strip(),
            feature=feature,
            environment=environment,
            region=region,
            severity=severity,
            impact_start=impact_start,
            detected_at=detected_at,
            live_version=live.to_version if live else None,
            live_event=live,
            owner=feature.incident_owner,
            reporter=reporter,
            description=description.strip(),
            customer_impact=customer_impact.strip(),
            source=source,
            alert_fingerprint=alert_fingerprint,
        )
        incident.full_clean()
        incident.save()
        summary = _live_summary(live)
        _event(
            incident,
            kind=EventKind.OPENED,
            actor=actor,
            payload={"live": summary},
            body=f"{incident.get_severity_display()} opened by {reporter.get_username()}.",
        )
        audit_record(
            actor=actor,
            action="incident.opened",
            target=incident,
            feature=feature,
            payload={
                "severity": severity,
                "environment": environment,
                "region": region.code,
                "impact_start": impact_start,
                "live": summary,
                "source": source,
            },
        )
        version_text = (
            f"v{summary['version']} ({summary['model']}, {summary['prompt']}) was live"
            if summary
            else "nothing was live"
        )
        notify(
            users=[feature.incident_owner, feature.accountable_owner],
            subject=f"{incident.get_severity_display()} on {feature}: {incident.title}",
            body=f"Impact from {impact_start.astimezone(UTC):%d %b %H:%M} UTC in {environment}/{region.code}; {version_text}. "
            f"Escalation path: {feature.escalation_path or 'not set'}.",
            url=incident.get_absolute_url(),
            key=f"incident-opened:{incident.pk}",
        )
    return incident


def _lock(incident: Incident) -> Incident:
    return Incident.objects.select_for_update(of=("self",)).select_related("feature").get(pk=incident.pk)


def incident_transition(
    *,
    actor,
    incident: Incident,
    status: str,
    note: str = "",
    root_cause: str | None = None,
    follow_ups: str | None = None,
    postmortem_url: str | None = None,
) -> Incident:
    """Move an incident along open → investigating → mitigated → resolved → closed (allowed moves only)."""
    if not can_work_incident(actor, incident):
        raise PermissionDenied("Only the incident owner, the feature's team, support and governance update incidents.")
    with transaction.atomic():
        locked = _lock(incident)
        if status not in INCIDENT_TRANSITIONS[locked.status]:
            allowed = " or ".join(sorted(INCIDENT_TRANSITIONS[locked.status])) or "nothing else"
            raise Conflict(f"{locked.reference} is {locked.status}; it can become {allowed}.")
        if root_cause is not None:
            locked.root_cause = root_cause.strip()
        if follow_ups is not None:
            locked.follow_ups = follow_ups.strip()
        if postmortem_url:
            URLValidator(schemes=["http", "https"])(postmortem_url)
            locked.postmortem_url = postmortem_url
        if status == IncidentStatus.CLOSED and locked.severity in SEVERITIES_NEEDING_ROOT_CAUSE:
            if not locked.root_cause or not locked.follow_ups:
                raise ValidationError(
                    {"root_cause": f"A {locked.get_severity_display()} closes only with a root cause and follow-ups."}
                )
        previous = locked.status
        now = timezone.now()
        locked.status = status
        stamp = {
            IncidentStatus.MITIGATED: "mitigated_at",
            IncidentStatus.RESOLVED: "resolved_at",
            IncidentStatus.CLOSED: "closed_at",
        }.get(status)
        if stamp and getattr(locked, stamp) is None:
            setattr(locked, stamp, now)
        if status == IncidentStatus.INVESTIGATING:
            # Reopened: it is neither mitigated nor resolved any more (the timeline keeps the earlier times).
            locked.mitigated_at = locked.resolved_at = None
        if status == IncidentStatus.RESOLVED and locked.mitigated_at is None:
            locked.mitigated_at = now  # resolving mitigates too
        locked.save()
        _event(locked, kind=EventKind.STATUS, actor=actor, body=note.strip(), payload={"status": [previous, status]})
        audit_record(
            actor=actor,
            action="incident.status_changed",
            target=locked,
            feature=locked.feature,
            payload={"status": [previous, status], "note": note.strip(), "root_cause": locked.root_cause},
        )
    return locked


def incident_comment(*, actor, incident: Incident, body: str, corrective: bool = False) -> IncidentEvent:
    """Anyone who can see the incident and may log incidents comments (auditors only read). A comment
    marked ``corrective`` records an action taken to correct the incident: a serious incident's report
    lists it among the corrective actions."""
    if not can_open_incident(actor) or not features_visible_to(actor).filter(pk=incident.feature_id).exists():
        raise PermissionDenied("You cannot comment on this incident.")
    if not body or not body.strip():
        raise ValidationError({"body": "Write something."})
    with transaction.atomic():
        locked = _lock(incident)
        event = _event(
            locked,
            kind=EventKind.COMMENT,
            actor=actor,
            body=body.strip(),
            payload={"corrective": True} if corrective else None,
        )
        audit_record(
            actor=actor,
            action="incident.commented",
            target=locked,
            feature=locked.feature,
            payload={"comment": body.strip()[:2000], **({"corrective": True} if corrective else {})},
        )
    return event


def incident_assign(*, actor, incident: Incident, owner) -> Incident:
    if not can_work_incident(actor, incident):
        raise PermissionDenied(
            "Only the incident owner, the feature's team, support and governance reassign incidents."
        )
    if not owner.is_active:
        raise ValidationError({"owner": f"{owner.get_username()} is inactive."})
    if not features_visible_to(owner).filter(pk=incident.feature_id).exists():
        raise ValidationError({"owner": f"{owner.get_username()} cannot see this feature, so cannot own its incident."})
    refusal = owner_refusal(owner, "incident owner")
    if refusal:
        raise ValidationError({"owner": refusal})
    with transaction.atomic():
        locked = _lock(incident)
        previous = locked.owner
        if previous.pk == owner.pk:
            return locked
        locked.owner = owner
        locked.save(update_fields=["owner"])
        _event(
            locked,
            kind=EventKind.OWNER,
            actor=actor,
            payload={"owner": [previous.username, owner.username]},
            body=f"Owner: {previous.username} → {owner.username}",
        )
        audit_record(
            actor=actor,
            action="incident.owner_changed",
            target=locked,
            feature=locked.feature,
            payload={"owner": [previous.username, owner.username]},
        )
        notify(
            users=[owner],
            subject=f"You now own {locked}",
            url=locked.get_absolute_url(),
            key=f"incident-owner:{locked.pk}:{owner.pk}",
        )
    return locked


def incident_add_link(*, actor, incident: Incident, url: str, title: str = "") -> IncidentEvent:
    if not can_work_incident(actor, incident):
        raise PermissionDenied("Only the incident owner, the feature's team, support and governance add links.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": "Links are http(s) URLs."}) from None
    with transaction.atomic():
        locked = _lock(incident)
        event = _event(locked, kind=EventKind.LINK, actor=actor, body=title.strip() or url, payload={"url": url})
        audit_record(
            actor=actor,
            action="incident.link_added",
            target=locked,
            feature=locked.feature,
            payload={"url": url, "title": title.strip()},
        )
    return event


def incident_rollback(*, actor, incident: Incident, reason: str, to_version: FeatureVersion | None = None):
    """Roll the incident's pointer back through the registry's rollback service, and put it on the timeline."""
    with transaction.atomic():
        locked = _lock(incident)
        if locked.status == IncidentStatus.CLOSED:
            raise Conflict(f"{locked.reference} is closed.")
        deployment_event = deployment_rollback(
            actor=actor,
            feature=locked.feature,
            environment=locked.environment,
            region=locked.region,
            to_version=to_version,
            reason=reason,
            incident_id=locked.pk,
        )
        _event(
            locked,
            kind=EventKind.ROLLBACK,
            actor=actor,
            deployment_event=deployment_event,
            body=reason.strip(),
            payload={
                "from_version": deployment_event.from_version.number,
                "to_version": deployment_event.to_version.number,
            },
        )
        audit_record(
            actor=actor,
            action="incident.rolled_back",
            target=locked,
            feature=locked.feature,
            payload={
                "deployment_event": deployment_event.pk,
                "from_version": deployment_event.from_version.number,
                "to_version": deployment_event.to_version.number,
                "reason": reason.strip(),
            },
        )
    return deployment_event


# --- Alert intake (Prometheus Alertmanager webhook) ----------------------------------------------

ALERT_SEVERITY = {
    "critical": Severity.SEV1,
    "page": Severity.SEV2,
    "error": Severity.SEV2,
    "warning": Severity.SEV3,
    "info": Severity.SEV4,
    **{value: value for value in Severity.values},
}


def _last_alert_state(incident: Incident) -> str | None:
    event = incident.events.filter(kind=EventKind.ALERT).order_by("-at", "-id").first()
    return event.payload.get("status") if event else None


def alertmanager_ingest(*, actor, payload: dict) -> list[dict]:
    """Open or update one incident per alert fingerprint. Repeated deliveries change nothing.

    Labels name the feature (``feature``), ``environment`` (default production), ``region`` and
    ``severity``. A resolved alert adds a timeline entry, once.
    """
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise ValidationError({"alerts": "An Alertmanager payload lists its alerts."})
    outcomes = []
    for alert in alerts:
        labels = alert.get("labels") or {}
        fingerprint = str(alert.get("fingerprint") or "")[:120]
        status = alert.get("status", "firing")
        try:
            if not fingerprint:
                raise ValidationError("Each alert needs its fingerprint.")
            with transaction.atomic():
                outcome = _ingest_one(actor, labels, alert, fingerprint, status)
        except (ValidationError, PermissionDenied) as error:
            # One bad alert must not hold back the others (Alertmanager would redeliver the batch forever).
            detail = " ".join(getattr(error, "messages", None) or [str(error)])
            outcome = {"result": "error", "detail": detail}
        outcomes.append({"fingerprint": fingerprint, **outcome})
    return outcomes


def _active_for_fingerprint(actor, fingerprint: str) -> Incident | None:
    return (
        Incident.objects.filter(alert_fingerprint=fingerprint, feature__in=features_visible_to(actor))
        .exclude(status=IncidentStatus.CLOSED)
        .first()
    )


def _alert_severity(labels: dict) -> str:
    return ALERT_SEVERITY.get(str(labels.get("severity", "")).lower(), Severity.SEV3)


def _ingest_one(actor, labels: dict, alert: dict, fingerprint: str, status: str) -> dict:
    existing = _active_for_fingerprint(actor, fingerprint)
    if existing is not None:
        return _alert_update(actor, existing, alert, status, severity=_alert_severity(labels))
    if status != "firing":
        return {"result": "ignored", "detail": "resolved alert with no open incident"}
    try:
        feature = features_visible_to(actor).get(slug=labels.get("feature", ""))
    except AIFeature.DoesNotExist:
        raise ValidationError({"labels": f"Unknown feature {labels.get('feature')!r} (label 'feature')."}) from None
    try:
        region = Region.objects.get(code=labels.get("region", ""))
    except Region.DoesNotExist:
        raise ValidationError({"labels": f"Unknown region {labels.get('region')!r} (label 'region')."}) from None
    annotations = alert.get("annotations") or {}
    starts_at = parse_datetime(str(alert.get("startsAt", ""))) or timezone.now()
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at, UTC)  # Alertmanager sends UTC
    now = timezone.now()
    try:
        with transaction.atomic():
            incident = incident_open(
                actor=actor,
                feature=feature,
                environment=labels.get("environment", Environment.PRODUCTION),
                region=region,
                severity=_alert_severity(labels),
                impact_start=min(starts_at, now),
                detected_at=now,
                title=(annotations.get("summary") or labels.get("alertname") or "Alert")[:200],
                description=annotations.get("description") or f"Alert {labels.get('alertname', '')} fired.",
                source=IncidentSource.ALERT,
                alert_fingerprint=fingerprint,
            )
            _event(
                incident,
                kind=EventKind.ALERT,
                actor=actor,
                payload={"status": "firing", "labels": labels},
                body=f"Alert {labels.get('alertname', '')} firing.",
            )
    except (IntegrityError, ValidationError):
        # A concurrent delivery of the same alert may have opened it first (the unique fingerprint
        # refuses ours, at validation or at insert): then this one is a repeat. Otherwise, a real error.
        existing = _active_for_fingerprint(actor, fingerprint)
        if existing is None:
            if Incident.objects.filter(alert_fingerprint=fingerprint).exclude(status=IncidentStatus.CLOSED).exists():
                # Open on a feature the caller may not see: say nothing of it (not even "already open").
                return {"result": "accepted"}
            raise
        return _alert_update(actor, existing, alert, status, severity=_alert_severity(labels))
    return {"result": "opened", "incident": incident.pk}


SEVERITY_ORDER = [Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4]  # most severe first


def _alert_update(actor, incident: Incident, alert: dict, status: str, *, severity: str) -> dict:
    with transaction.atomic():
        locked = _lock(incident)
        if status == "firing" and SEVERITY_ORDER.index(severity) < SEVERITY_ORDER.index(locked.severity):
            # Never "unchanged": a SEV4 filed first must not swallow the critical alert that follows.
            return _alert_escalate(actor, locked, severity, labels=alert.get("labels") or {})
        if _last_alert_state(locked) == status:
            return {"result": "unchanged", "incident": locked.pk}
        body = "Alert resolved." if status == "resolved" else "Alert firing again."
        _event(locked, kind=EventKind.ALERT, actor=actor, body=body, payload={"status": status})
        audit_record(
            actor=actor,
            action=f"incident.alert_{status}",
            target=locked,
            feature=locked.feature,
            payload={"fingerprint": locked.alert_fingerprint, "status": status},
        )
    return {"result": f"alert_{status}", "incident": locked.pk}


def _alert_escalate(actor, locked: Incident, severity: str, *, labels: dict) -> dict:
    """Raise the incident to the alert's severity, as opening it at that severity would have: the same
    permission (a SEV1/SEV2 freezes promotions), and a freezing severity on a mitigated or resolved
    incident reopens it (investigating), so the freeze applies (``incidents.guards``). Audited; the owners
    are told."""
    if not can_open_severity(actor, locked.feature, severity):
        raise PermissionDenied(
            "A SEV1 or SEV2 freezes the feature's promotions: support, the owning team or governance raise one."
        )
    previous, previous_status = locked.severity, locked.status
    locked.severity = severity
    reopened = severity in FREEZING_SEVERITIES and locked.status not in FREEZING_STATUSES
    if reopened:
        locked.status = IncidentStatus.INVESTIGATING
        locked.mitigated_at = locked.resolved_at = None
    locked.save()
    payload = {"severity": [previous, severity], "fingerprint": locked.alert_fingerprint}
    if reopened:
        payload["status"] = [previous_status, locked.status]
    _event(
        locked,
        kind=EventKind.ALERT,
        actor=actor,
        payload={"status": "firing", "severity": [previous, severity]},
        body=f"Alert {labels.get('alertname', '')} firing at {locked.get_severity_display()}: raised from "
        f"{Severity(previous).label}.",
    )
    audit_record(actor=actor, action="incident.escalated", target=locked, feature=locked.feature, payload=payload)
    notify(
        users=[locked.owner, locked.feature.accountable_owner],
        subject=f"{locked.get_severity_display()} on {locked.feature}: {locked.title} (raised from "
        f"{Severity(previous).label})",
        body=f"An alert raised {locked.reference} from {Severity(previous).label} to {locked.get_severity_display()}."
        + (" Promotions of the feature are frozen while it is open." if severity in FREEZING_SEVERITIES else ""),
        url=locked.get_absolute_url(),
        key=f"incident-escalated:{locked.pk}:{severity}",
    )
    return {"result": "escalated", "incident": locked.pk}


def incident_mark_serious(
    *,
    actor,
    incident: Incident,
    criteria: list[str],
    aware_at: datetime,
    death: bool = False,
    widespread: bool = False,
    reason: str = "",
) -> Incident:
    """Mark an incident serious (EU AI Act Art. 3(49)): the criteria met, whether someone died, whether the
    infringement is widespread, and when the provider became aware. That starts the report's clock (Art. 73:
    15 days, 10 after a death, 2 for a widespread infringement or critical infrastructure disrupted). The
    incident's workers and governance decide; changing the decision later is recorded the same way."""
    if not can_report_incident(actor, incident):
        raise PermissionDenied("Only the incident's owner, the feature's team, support and governance decide this.")
    chosen = sorted(set(criteria))
    if not chosen or not set(chosen) <= set(SeriousCriterion.values):
        raise ValidationError({"criteria": "Tick at least one criterion the incident meets."})
    if death and SeriousCriterion.HEALTH not in chosen:
        raise ValidationError({"death": "A death is harm to health: tick that criterion too."})
    if aware_at > timezone.now():
        raise ValidationError({"aware_at": "Awareness cannot be in the future."})
    if aware_at < incident.impact_start - timedelta(days=1):
        raise ValidationError({"aware_at": "Awareness comes after the impact began."})
    with transaction.atomic():
        locked = _lock(incident)
        before = {
            "criteria": locked.serious_criteria,
            "death": locked.serious_death,
            "widespread": locked.serious_widespread,
            "aware_at": locked.aware_at.isoformat() if locked.aware_at else None,
        }
        locked.serious_criteria = chosen
        locked.serious_death = death
        locked.serious_widespread = widespread
        locked.aware_at = aware_at
        locked.serious_decided_by = actor
        locked.serious_decided_at = timezone.now()
        locked.save(
            update_fields=[
                "serious_criteria",
                "serious_death",
                "serious_widespread",
                "aware_at",
                "serious_decided_by",
                "serious_decided_at",
            ]
        )
        due = locked.report_due_at
        body = (
            f"Marked serious ({', '.join(str(SeriousCriterion(value).label)[:1].lower() + str(SeriousCriterion(value).label)[1:] for value in chosen)}). The report to "
            f"the market surveillance authority is due within {locked.report_days} days of awareness: by "
            f"{due.astimezone(UTC):%d %b %Y %H:%M} UTC."
        )
        _event(
            locked, kind=EventKind.SERIOUS, actor=actor, body=body + (f" {reason.strip()}" if reason.strip() else "")
        )
        audit_record(
            actor=actor,
            action="incident.marked_serious",
            target=locked,
            feature=locked.feature,
            payload={
                "old": before,
                "new": {"criteria": chosen, "death": death, "widespread": widespread, "aware_at": aware_at.isoformat()},
                "report_due_at": due.isoformat(),
                "reason": reason.strip(),
            },
        )
        notify(
            users=[locked.owner, locked.feature.accountable_owner, *role_holders(Role.GOVERNANCE)],
            subject=f"Serious incident {locked.reference}: report due {due.astimezone(UTC):%d %b %Y} UTC",
            body=body,
            url=locked.get_absolute_url(),
            key=f"incident-serious:{locked.pk}:{due.isoformat()}",
        )
    return locked


# --- Serious incidents: the report's notes, its submissions, the evidence, the reminders ---------------


def _require_reporter(actor, incident: Incident, what: str) -> None:
    """Whoever may not see the incident's feature, or is not among its workers and governance, may not."""
    if (
        not can_report_incident(actor, incident)
        or not features_visible_to(actor).filter(pk=incident.feature_id).exists()
    ):
        raise PermissionDenied(f"Only the incident's owner, the feature's team, support and governance {what}.")


def _require_serious(locked: Incident) -> None:
    if not locked.is_serious or locked.aware_at is None:
        raise Conflict(f"{locked.reference} is not marked serious: there is no report to the authority to make.")


def _when_utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%d %b %Y %H:%M} UTC"


def report_notes_save(
    *,
    actor,
    incident: Incident,
    affected_persons: str | None = None,
    root_cause: str | None = None,
    corrective_actions_planned: str | None = None,
    further_information: str | None = None,
) -> SeriousReport | None:
    """Write the parts of a serious incident's report that only people know (the rest is drafted from the
    record). ``None`` leaves a part as it is. Audited with each part before and after; on the timeline."""
    _require_reporter(actor, incident, "write its report")
    typed = {
        "affected_persons": affected_persons,
        "root_cause": root_cause,
        "corrective_actions_planned": corrective_actions_planned,
        "further_information": further_information,
    }
    with transaction.atomic():
        locked = _lock(incident)
        _require_serious(locked)
        notes = SeriousReport.objects.select_for_update().filter(incident=locked).first()
        before = {name: getattr(notes, name) if notes else "" for name in SeriousReport.WRITTEN_FIELDS}
        after = {name: before[name] if typed[name] is None else typed[name].strip() for name in before}
        changed = [name for name in SeriousReport.WRITTEN_FIELDS if before[name] != after[name]]
        if not changed:
            return notes
        notes = notes or SeriousReport(incident=locked)
        for name, value in after.items():
            setattr(notes, name, value)
        notes.updated_by = actor
        notes.updated_at = timezone.now()
        notes.save()
        words = ", ".join(SeriousReport._meta.get_field(name).verbose_name for name in changed)
        _event(
            locked,
            kind=EventKind.REPORT,
            actor=actor,
            body=f"Report notes written: {words}.",
            payload={"notes": changed},
        )
        audit_record(
            actor=actor,
            action="incident.report_notes_changed",
            target=locked,
            feature=locked.feature,
            payload={"changed": {name: [before[name][:2000], after[name][:2000]] for name in changed}},
        )
    return notes


def incident_report_draft(*, incident: Incident, kind: str, as_of: datetime | None = None) -> tuple[dict, str]:
    """The draft of a serious incident's ``kind`` report as of ``as_of`` (now when not given, never later),
    and its SHA-256. A read: callers have found the incident among those the user may see."""
    now = timezone.now()
    if as_of is None or as_of > now:
        as_of = now
    if not incident.is_serious or incident.aware_at is None:
        raise Conflict(f"{incident.reference} is not marked serious: there is no report to the authority to draft.")
    content = report_draft(incident, kind=kind, as_of=as_of)
    return content, digest(content)


def incident_record_submission(
    *,
    actor,
    incident: Incident,
    kind: str,
    authority: str,
    submitted_at: datetime,
    reference: str = "",
    note: str = "",
    as_of: datetime | None = None,
    draft_sha256: str = "",
) -> ReportSubmission:
    """Record that a report of a serious incident was sent to a market surveillance authority. It keeps the
    draft sent, made from the record as of ``as_of`` (the moment of the draft the person read; now if not
    given), and its SHA-256; with ``draft_sha256`` (what the person read), a record changed since is refused
    rather than a different draft kept. A complete report stops the clock and its reminders; one complete
    report per incident, anything later is a follow-up. Audited, on the timeline; the owners and governance
    are told."""
    _require_reporter(actor, incident, "record its reports")
    if kind not in ReportKind.values:
        raise ValidationError({"kind": "Choose the initial report, the complete report or a follow-up."})
    authority = (authority or "").strip()
    if not authority:
        raise ValidationError({"authority": "Name the authority the report went to."})
    now = timezone.now()
    if submitted_at > now + timedelta(minutes=5):
        raise ValidationError({"submitted_at": "A report cannot be submitted in the future."})
    if as_of is None or as_of > now:
        as_of = now
    with transaction.atomic():
        locked = _lock(incident)
        _require_serious(locked)
        if submitted_at < locked.aware_at:
            raise ValidationError({"submitted_at": "A report is sent after becoming aware of the incident."})
        if kind == ReportKind.COMPLETE and locked.report_completed_at is not None:
            raise Conflict(
                f"The complete report of {locked.reference} is already recorded "
                f"({_when_utc(locked.report_completed_at)}): record what came later as a follow-up."
            )
        content = report_draft(locked, kind=DRAFT_KINDS[kind], as_of=as_of)
        sha256 = digest(content)
        if draft_sha256 and draft_sha256.strip().lower() != sha256:
            raise Conflict(
                "The record changed since that draft was made (its SHA-256 no longer matches): read the draft "
                "again, send that one, then record it."
            )
        submission = ReportSubmission.objects.create(
            incident=locked,
            kind=kind,
            authority=authority[:200],
            submitted_at=submitted_at,
            submitted_by=actor,
            reference=reference.strip()[:200],
            note=note.strip(),
            as_of=as_of,
            content=content,
            content_sha256=sha256,
            recorded_at=now,
        )
        if kind == ReportKind.COMPLETE:
            locked.report_completed_at = submitted_at
            locked.save(update_fields=["report_completed_at"])
        label = ReportKind(kind).label
        body = f"{label} submitted to {authority} on {_when_utc(submitted_at)}" + (
            f" (reference {submission.reference})." if submission.reference else "."
        )
        if kind == ReportKind.COMPLETE:
            body += " The report's clock has stopped."
        _event(
            locked,
            kind=EventKind.REPORT,
            actor=actor,
            body=body + (f" {submission.note}" if submission.note else ""),
            payload={"submission": submission.pk, "kind": kind, "sha256": sha256},
        )
        audit_record(
            actor=actor,
            action="incident.report_submitted",
            target=locked,
            feature=locked.feature,
            payload={
                "submission": submission.pk,
                "kind": kind,
                "authority": submission.authority,
                "submitted_at": submitted_at.isoformat(),
                "reference": submission.reference,
                "as_of": as_of.isoformat(),
                "sha256": sha256,
            },
        )
        notify(
            users=[*_owners(locked), *role_holders(Role.GOVERNANCE)],
            subject=f"{label} of serious incident {locked.reference} submitted to {authority}",
            body=body,
            url=reverse("incidents:report", args=[locked.pk]),
            key=f"incident-report-submitted:{submission.pk}",
        )
    return submission


def _owners(incident: Incident) -> list:
    """The incident's owner and the feature's owners, among the people who may see the feature."""
    feature = incident.feature
    wanted = {person.pk for person in (incident.owner, feature.accountable_owner, feature.incident_owner) if person}
    return list(people_who_see(feature).filter(pk__in=wanted))


def _snapshot(locked: Incident, *, actor, trigger: str, note: str = "", rollback: dict | None = None):
    now = timezone.now()
    content = evidence_content(locked, taken_at=now, taken_by=actor, trigger=trigger, note=note, rollback=rollback)
    sha256 = digest(content)
    snapshot = EvidenceSnapshot.objects.create(
        incident=locked,
        taken_at=now,
        taken_by=actor,
        trigger=trigger,
        note=note,
        content=content,
        content_sha256=sha256,
    )
    live = ", ".join(f"{row['environment']}/{row['region']} v{row['version']}" for row in content["live"]) or "nothing"
    _event(
        locked,
        kind=EventKind.SNAPSHOT,
        actor=actor,
        body=f"Evidence snapshot #{snapshot.pk} ({SnapshotTrigger(trigger).label.lower()}): live {live}.",
        payload={"snapshot": snapshot.pk, "sha256": sha256, "trigger": trigger},
        at=now,
    )
    audit_record(
        actor=actor,
        action="incident.evidence_snapshot",
        target=locked,
        feature=locked.feature,
        payload={
            "snapshot": snapshot.pk,
            "trigger": trigger,
            "sha256": sha256,
            "live": [[row["environment"], row["region"], row["version"]] for row in content["live"]],
            "rollback": rollback,
        },
    )
    return snapshot


def incident_snapshot_evidence(*, actor, incident: Incident, note: str = "") -> EvidenceSnapshot:
    """Keep, now, what the record holds about the incident (``incidents.reports.evidence_content``): it is
    never changed afterwards. Audited, on the timeline."""
    _require_reporter(actor, incident, "snapshot its evidence")
    with transaction.atomic():
        locked = _lock(incident)
        return _snapshot(locked, actor=actor, trigger=SnapshotTrigger.MANUAL, note=note.strip())


def snapshot_before_rollback(feature, deployment, *, actor, to_version, reason: str, incident_id=None) -> None:
    """``registry.extensions.rollback_preparers``: before a rollback made from a serious incident changes
    anything, in its transaction, snapshot the evidence (the pointer still names the version being left).

    Lock order: the incident row is taken after the feature's here, but every path that passes
    ``incident_id`` (``incident_rollback``) holds it already."""
    if incident_id is None:
        return
    incident = (
        Incident.objects.select_for_update(of=("self",))
        .select_related("feature", "live_version")
        .filter(pk=incident_id, feature=feature)
        .first()
    )
    if incident is None or not incident.is_serious:
        return
    _snapshot(
        incident,
        actor=actor,
        trigger=SnapshotTrigger.ROLLBACK,
        note=reason,
        rollback={
            "environment": deployment.environment,
            "region": deployment.region.code,
            "from_version": deployment.version.number,
            "to_version": to_version.number,
            "reason": reason,
        },
    )


def _reminder_stage(incident: Incident, now: datetime) -> str | None:
    """The last point of the report's clock reached at ``now``: half the time gone, the last day, overdue."""
    due, aware = incident.report_due_at, incident.aware_at
    if due is None or now < aware:
        return None
    if now >= due:
        return ReminderStage.OVERDUE
    if due - now <= timedelta(days=1):
        return ReminderStage.LAST_DAY
    if now - aware >= (due - aware) / 2:
        return ReminderStage.HALF
    return None


def _reports_so_far(incident: Incident) -> str:
    initial = incident.submissions.filter(kind=ReportKind.INITIAL).order_by("submitted_at").first()
    if initial is None:
        return "No report has been submitted yet."
    return (
        f"The initial report was submitted on {_when_utc(initial.submitted_at)} to {initial.authority}; "
        "the complete report is pending."
    )


def serious_report_reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Hourly (``incidents.tasks``): for every serious incident whose complete report is not submitted,
    remind its owner and the feature's owners once when half the time to report is gone and once on the
    last day, and tell them and governance once it is overdue; governance is told on the last day too.
    Only the last point reached is sent (an incident marked serious late does not get every reminder at
    once), each once per deadline: recorded on the timeline and audited."""
    now = now or timezone.now()
    sent = {"reminded": 0, "escalated": 0}
    candidates = (
        Incident.objects.exclude(serious_criteria=[])
        .filter(aware_at__isnull=False, aware_at__lte=now, report_completed_at__isnull=True)
        .values_list("pk", flat=True)
    )
    for pk in list(candidates):
        with transaction.atomic():
            locked = Incident.objects.select_for_update(of=("self",)).select_related("feature", "owner").get(pk=pk)
            if not locked.report_clock_running:
                continue
            stage = _reminder_stage(locked, now)
            if stage is None:
                continue
            due = locked.report_due_at
            already = locked.events.filter(
                kind=EventKind.REMINDER, payload__stage=stage, payload__due=due.isoformat()
            ).exists()
            if already:
                continue
            reminded, escalated = _remind(locked, stage, now=now)
            sent["reminded"] += reminded
            sent["escalated"] += escalated
    return sent


REMINDER_SUBJECTS = {
    ReminderStage.HALF: "half the time to report is gone (due {due})",
    ReminderStage.LAST_DAY: "less than a day left to report (due {due})",
    ReminderStage.OVERDUE: "the report is overdue (it was due {due})",
}


def _remind(locked: Incident, stage: str, *, now: datetime) -> tuple[int, int]:
    due = locked.report_due_at
    due_text = _when_utc(due)
    so_far = _reports_so_far(locked)
    url = reverse("incidents:report", args=[locked.pk])
    subject = f"Serious incident {locked.reference}: " + REMINDER_SUBJECTS[stage].format(due=due_text)
    body = (
        f"{locked.title} ({locked.feature}). The report to the market surveillance authority is due by {due_text}, "
        f"{locked.report_days} days after becoming aware. {so_far} Gatehouse drafts it from the record."
    )
    owners = _owners(locked)
    told = notify(
        users=owners,
        subject=subject,
        body=body,
        url=url,
        key=f"incident-report-reminder:{locked.pk}:{due.isoformat()}:{stage}",
    )
    escalated = []
    if stage in ESCALATED_STAGES:
        escalated = notify(
            users=role_holders(Role.GOVERNANCE, exclude=[owner.pk for owner in owners]),
            subject=f"Escalated: serious incident {locked.reference}: " + REMINDER_SUBJECTS[stage].format(due=due_text),
            body=body + f" Its owner is {locked.owner.get_username()}.",
            url=url,
            key=f"incident-report-escalated:{locked.pk}:{due.isoformat()}:{stage}",
        )
    label = ReminderStage(stage).label
    _event(
        locked,
        kind=EventKind.REMINDER,
        body=f"{label}: the report is due by {due_text}. Reminded the owners"
        + (", and escalated to governance." if stage in ESCALATED_STAGES else "."),
        payload={"stage": stage, "due": due.isoformat(), "escalated": stage in ESCALATED_STAGES},
        at=now,
    )
    audit_record(
        actor=None,
        action="incident.report_escalated" if stage in ESCALATED_STAGES else "incident.report_reminded",
        target=locked,
        feature=locked.feature,
        payload={
            "stage": stage,
            "report_due_at": due.isoformat(),
            "told": sorted(person.get_username() for person in owners),
            "governance": stage in ESCALATED_STAGES,
        },
    )
    return len(told), len(escalated)
