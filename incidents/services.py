"""Every write of the incidents app. Lock order: the incident row, then (for a rollback) what the
registry locks; the audit chain last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.exceptions import Conflict
from incidents.choices import (
    FREEZING_SEVERITIES,
    FREEZING_STATUSES,
    INCIDENT_TRANSITIONS,
    SEVERITIES_NEEDING_ROOT_CAUSE,
    EventKind,
    IncidentSource,
    IncidentStatus,
    SeriousCriterion,
    Severity,
)
from incidents.models import Incident, IncidentEvent
from incidents.permissions import can_open_incident, can_open_severity, can_work_incident
from registry.choices import Environment, Role
from registry.models import AIFeature, FeatureVersion, Region
from registry.permissions import is_governance, owner_refusal
from registry.selectors import features_visible_to, live_at, role_holders
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


def incident_comment(*, actor, incident: Incident, body: str) -> IncidentEvent:
    """Anyone who can see the incident and may log incidents comments (auditors only read)."""
    if not can_open_incident(actor) or not features_visible_to(actor).filter(pk=incident.feature_id).exists():
        raise PermissionDenied("You cannot comment on this incident.")
    if not body or not body.strip():
        raise ValidationError({"body": "Write something."})
    with transaction.atomic():
        locked = _lock(incident)
        event = _event(locked, kind=EventKind.COMMENT, actor=actor, body=body.strip())
        audit_record(
            actor=actor,
            action="incident.commented",
            target=locked,
            feature=locked.feature,
            payload={"comment": body.strip()[:2000]},
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
    if not (can_work_incident(actor, incident) or is_governance(actor)):
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
