"""Resolve's answers asked ahead of time and again afterwards, for the apps below routing
(registered in ``RoutingConfig.ready`` as ``registry.extensions.route_previews`` and ``route_checks``).

- A gate request, its review and its promotion ask what resolve would answer were the version live in
  each requested region: a version whose policy pack does not allow a region, or whose models are not
  hosted there or suspended, would be refused there, so it is refused the region before anyone signs.
- The feature page, readiness and the home page ask which live routes resolve refuses now (a suspension
  or a policy change since they went live), so the owners can roll back, fix forward or withdraw.

Both apply ``engine.decide`` to ``engine`` facts: the same rules, the same reasons, as resolve.
"""

from __future__ import annotations

from dataclasses import replace

from django.utils import timezone

from registry.choices import FeatureStatus
from routing.engine import FAIL, Decision, decide, facts_if_live, load_facts_many

# The rules a version itself fails: its policy pack (residency), its models (hosting, suspension).
VERSION_RULES = frozenset({"residency", "hosting", "suspension"})
OFF = (FeatureStatus.PAUSED, FeatureStatus.RETIRED)


def _answer(decision: Decision) -> dict:
    facts = decision.facts
    as_if_on = decision
    if facts.feature_status in OFF:  # the feature is off: would the version serve once it is on again?
        as_if_on = decide(replace(facts, feature_status=FeatureStatus.ACTIVE))
    if decision.ok:
        served = decision.served
        summary = f"200: {served.role} {served.label} serves v{facts.version_number}"
        if decision.fallbacks:
            summary += f", then {', '.join(model.label for model in decision.fallbacks)}"
        summary += "."
    else:
        summary = f"409: {decision.refusal}"
    return {
        "serves": decision.ok,
        "summary": summary,
        "refusal": "" if as_if_on.ok else as_if_on.refusal,
        "reasons": [
            step["detail"] for step in as_if_on.explanation if step["outcome"] == FAIL and step["rule"] in VERSION_RULES
        ],
        "warnings": decision.warnings,
    }


def route_preview(version, *, environment: str, regions) -> dict[str, dict]:
    """``registry.extensions.route_previews``: resolve's answer per region code were ``version`` live there."""
    regions = sorted(regions, key=lambda region: region.code)
    return {
        facts.region: _answer(decide(facts))
        for facts in facts_if_live(version, environment=environment, regions=regions, now=timezone.now())
    }


def route_check(deployments) -> dict[int, str]:
    """``registry.extensions.route_checks``: the live pointers resolve refuses now, by id, with the reason.
    Four queries however many (one when there are none): what only adds warnings is left out. A paused
    or retired feature's routes are off by its owners' choice: not flagged."""
    found: dict[int, str] = {}
    for facts in load_facts_many(deployments, now=timezone.now(), warnings=False):
        if facts.feature_status in OFF:
            continue
        decision = decide(facts)
        if not decision.ok:
            found[facts.deployment_id] = decision.refusal
    return found
