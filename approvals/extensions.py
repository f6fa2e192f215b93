"""How the apps above approvals take part in gates: a gate policy preview (``approvals.impact``) and the
checks a request must meet beyond its gate's own requirements.

A gate change moves readiness (readiness's checklist) and evidence findings (freshness's sweep), which
approvals does not know: those apps register here, in their ``AppConfig.ready``, what the proposed
requirements would do by their own rules. Without them, the preview shows no readiness or findings
changes (what approvals alone can tell).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ReadinessEffect:
    lost: list[tuple[int, str]] = field(default_factory=list)  # (feature id, the checklist items it would miss)
    gained: list[int] = field(default_factory=list)  # feature ids that would become ready


@dataclass
class FindingsEffect:
    # (feature id, version id, environment) -> what would open or change, and what would close
    opened: dict[tuple, list[str]] = field(default_factory=dict)
    closed: dict[tuple, list[str]] = field(default_factory=dict)
    # (feature id, version id, environment) -> would a promotion now allowed be refused after the change?
    newly_blocked: Callable[[int, int, str], bool] = lambda feature_id, version_id, environment: False


# compliance: (feature, *, version, environment) -> [approvals.checks.Check]: what the feature's regulatory
# profile requires of a gate request on top of the gate's own requirements (a high-risk feature's complete
# technical file before production). Asked where a request is opened, approved, used to promote, or reviewed.
gate_check_providers: list[Callable] = []
# compliance: (feature ids) -> the ids among them a gate check provider may have something to say about, so a
# list of requests asks the providers only for those (one query for the page, not one per request).
gate_check_scopes: list[Callable] = []
# readiness: (live production features as (pk, slug), now=, policies=) -> ReadinessEffect
readiness_effects: list[Callable[..., ReadinessEffect]] = []
# freshness: (feature_ids=, version_ids=, now=, policies=) -> FindingsEffect
findings_effects: list[Callable[..., FindingsEffect]] = []


def readiness_effect(features: list[tuple[int, str]], *, now: datetime, policies: dict) -> ReadinessEffect:
    effect = ReadinessEffect()
    for provider in readiness_effects:
        found = provider(features, now=now, policies=policies)
        effect.lost += found.lost
        effect.gained += found.gained
    return effect


def findings_effect(*, feature_ids: list[int], version_ids: set[int], now: datetime, policies: dict) -> FindingsEffect:
    """The findings provider's answer (freshness registers the one there is), or no findings changes."""
    if not findings_effects:
        return FindingsEffect()
    return findings_effects[0](feature_ids=feature_ids, version_ids=version_ids, now=now, policies=policies)


def features_with_gate_checks(feature_ids) -> set[int]:
    found: set[int] = set()
    for scope in gate_check_scopes:
        found |= set(scope(list(feature_ids)))
    return found


def gate_checks(feature, *, version, environment: str) -> list:
    return [
        check
        for provider in gate_check_providers
        for check in provider(feature, version=version, environment=environment)
    ]


def register(hooks: list, hook) -> None:
    if hook not in hooks:
        hooks.append(hook)
