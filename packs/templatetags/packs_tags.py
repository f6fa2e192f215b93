from functools import cache

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()


@register.filter
def iso_when(value: str | None) -> str:
    """An ISO date-time from a pack's content, as ``24 Nov 2026 01:04 UTC``; an em dash when empty."""
    if not value:
        return "—"
    moment = parse_datetime(value)
    if moment is None:
        return value
    return moment.strftime("%d %b %Y %H:%M ") + (moment.tzname() or "")


@register.filter
def as_json(value) -> str:
    """Tools and parameters as compact JSON, the way they were registered."""
    import json

    if value in (None, "", [], {}):
        return "—"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@cache
def _label_sets() -> dict[str, dict[str, str]]:
    from approvals.choices import Gate, RequestStatus, SignOffStatus
    from incidents.choices import IncidentStatus, Severity
    from registry.choices import (
        DataClassification,
        DatasetUsage,
        DeploymentEventKind,
        Environment,
        EvaluationKind,
        FeatureStatus,
        ModelStatus,
        RiskTier,
        Role,
        VersionStatus,
    )

    sets = {
        "evaluation_kind": EvaluationKind,
        "risk_tier": RiskTier,
        "feature_status": FeatureStatus,
        "version_status": VersionStatus,
        "model_status": ModelStatus,
        "classification": DataClassification,
        "usage": DatasetUsage,
        "environment": Environment,
        "deployment_event": DeploymentEventKind,
        "gate": Gate,
        "request_status": RequestStatus,
        "signoff_status": SignOffStatus,
        "role": Role,
        "severity": Severity,
        "incident_status": IncidentStatus,
    }
    return {name: dict(choices.choices) for name, choices in sets.items()}


@register.filter
def label(value, kind: str) -> str:
    """A stored choice (``red_team``, ``regulated``) as the app shows it (``Red team``, ``Regulated``); a value
    the choices do not know (an older pack's) is shown as it was stored."""
    if value in (None, ""):
        return "—"
    return _label_sets().get(kind, {}).get(value, str(value))
