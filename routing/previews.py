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

import hashlib
from dataclasses import replace

from django.utils import timezone

from core.kept import kept
from registry.choices import FeatureStatus
from routing import cache as routing_cache
from routing.engine import (
    FAIL,
    Decision,
    decide,
    facts_if_live,
    load_facts_many,
    load_route_table,
    serving_model,
)

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


REFUSED_KEY = "routing:refused:{generation}:{viewer}"
REFUSALS_KEY = "routing:refusals:{generation}:{routes}"
# Kept while routing's generation stands (any feature's new stamp renews it: a promotion, a suspension, a
# policy or catalog change, a move into restriction); the bound is for a change made behind the services.
KEPT_SECONDS = 600


def refused_route_ids(deployments, *, viewer: str | None = None) -> list[int]:
    """``registry.extensions.route_screens``: the ids of the live pointers resolve refuses now, by feature
    name, environment and region code, without resolve's words (``route_check`` gives them): a count and
    a page of them for the dashboard, however many there are.

    The routes come as plain rows (``load_route_table``, at most five queries however many) and each
    distinct combination of status, region, policy pack and models is judged once (``serving_model``:
    ``decide``'s rules). A paused or retired feature's routes are off by its owners' choice: not flagged.

    With ``viewer`` (every live pointer of what that viewer sees), the ids are kept in the shared cache
    under routing's generation: the next dashboard of anyone who sees the same costs one round trip until a
    decision may have changed. Nothing in the rules depends on the clock."""
    generation = routing_cache.current_generation() if viewer is not None else None
    key = REFUSED_KEY.format(generation=generation, viewer=viewer) if generation is not None else None
    return kept(key, lambda: (_refused_ids(deployments), KEPT_SECONDS))


def _refused_ids(deployments) -> list[int]:
    table = load_route_table(deployments)
    serves: dict[tuple, bool] = {}
    refused = []
    for row in table.rows:
        if row[table.STATUS] in OFF:
            continue
        key = table.rule_key(row)
        if key not in serves:
            serves[key] = serving_model(table.rule_facts(row)) is not None
        if not serves[key]:
            refused.append(row)
    refused.sort(key=lambda row: (row[table.NAME], row[table.ENVIRONMENT], row[table.REGION], row[table.PK]))
    return [row[table.PK] for row in refused]


def route_check(deployments) -> dict[int, str]:
    """``registry.extensions.route_checks``: the live pointers resolve refuses now, by id, with the reason.
    What only adds warnings is left out. Those refused are found as ``refused_route_ids`` finds them; only
    they are loaded in full and decided, for resolve's own words (four queries more, none when nothing is
    refused; none either while routing's generation stands, the words being kept for those routes)."""
    generation = routing_cache.current_generation()  # before the database, as for refused_route_ids
    refused = _refused_ids(deployments)
    if not refused:
        return {}

    def refusals() -> dict[int, str]:
        found = {}
        for facts in load_facts_many(deployments.filter(pk__in=refused), now=timezone.now(), warnings=False):
            decision = decide(facts)
            if not decision.ok:
                found[facts.deployment_id] = decision.refusal
        return found

    routes = hashlib.sha256(",".join(map(str, refused)).encode()).hexdigest()[:24]
    key = REFUSALS_KEY.format(generation=generation, routes=routes) if generation is not None else None
    return kept(key, lambda: (refusals(), KEPT_SECONDS))
