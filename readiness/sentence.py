"""One plain sentence that states a feature's readiness, built from the facts the checklist gathered.

"Claims triage runs claude-sonnet-4 (EU) with prompt triage@7 and policy eu-strict@3, last evaluated
5 days ago (0.91 ≥ 0.85), risk tier regulated, owned by Dana Lee, monitored by claims-dash, rolls back
to v6." Where an item is missing the sentence ends with what is missing ("…; no monitor is registered
and no fallback is eligible in the US."). A feature not live in production says so once.
"""

from __future__ import annotations

from datetime import datetime

from registry.choices import FeatureStatus

# How a sentence names each region (the codes and names of registry.Region): "in the EU", "in Canada".
# Unions and kingdoms keep their short form with "the"; a country's own name needs none.
PLACES = {
    "eu": "the EU",
    "uk": "the UK",
    "us": "the US",
    "ca": "Canada",
    "jp": "Japan",
    "apac": "Asia-Pacific",
}


def place(code: str) -> str:
    """A region as a sentence reads it after "in": ``ca`` → "Canada", ``eu`` → "the EU"; a region this list
    does not know is named by its code in capitals."""
    return PLACES.get(code.lower(), code.upper())


def where(codes) -> str:
    """``["us"]`` → "the US"; ``["ca", "eu"]`` → "Canada and the EU"."""
    return join_and([place(code) for code in codes])


def join_and(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


def person(user) -> str:
    return user.get_full_name() or user.get_username()


def monitor_names(feature) -> list[str]:
    """Short names of the monitors: a link's last path segment (``…/d/claims-dash`` → ``claims-dash``)."""
    names = []
    for line in feature.monitor_links:
        name = line.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        name = name.rsplit("/", 1)[-1] if "/" in name else name
        name = name or line
        if name not in names:
            names.append(name)
    return names


def ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def _runs(routes) -> str:
    """ "claude-sonnet-4 (EU, US) with prompt triage@7 and policy eu-strict@3", one part per model and version."""
    groups: dict[tuple, list[str]] = {}
    for route in routes:
        decision = route.decision
        if not decision.ok:
            continue
        facts = decision.facts
        key = (
            decision.served.identifier,
            route.version_id,
            facts.prompt.get("name"),
            facts.prompt.get("version"),
            facts.policy_pack.get("name"),
            facts.policy_pack.get("version"),
        )
        groups.setdefault(key, []).append(route.region.upper())
    parts = [
        f"{model} ({', '.join(regions)}) with prompt {prompt}@{prompt_version} and policy {policy}@{policy_version}"
        for (model, _version, prompt, prompt_version, policy, policy_version), regions in groups.items()
    ]
    return join_and(parts)


def _evaluated(evaluation, now: datetime) -> str:
    if evaluation is None:
        return "never evaluated"
    if evaluation.higher_is_better:
        relation = "≥" if evaluation.passed else "<"
    else:
        relation = "≤" if evaluation.passed else ">"
    outcome = "" if evaluation.passed else ", failing"
    return (
        f"last evaluated {ago(evaluation.run_at, now)} "
        f"({evaluation.score:g} {relation} {evaluation.threshold:g}{outcome})"
    )


def _rolls_back(readiness) -> str:
    numbers = sorted(set(readiness.rollback_to.values()), reverse=True)
    if numbers and len(readiness.rollback_to) == len(readiness.routes):
        if len(numbers) == 1:
            return f"rolls back to v{numbers[0]}"
        return "rolls back to " + join_and(
            [f"v{number} ({region.upper()})" for region, number in sorted(readiness.rollback_to.items())]
        )
    if readiness.item("rollback_path").ok:
        return "rolls back by its documented path"
    return ""


def sentence_for(readiness, *, now: datetime) -> str:
    feature = readiness.feature
    clauses = []
    runs = _runs(readiness.routes)
    if feature.status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED):
        opening = f"{feature.name} is {feature.get_status_display().lower()}: its AI path is off"
    elif readiness.routes and runs:
        opening = f"{feature.name} runs {runs}"
        clauses.append(_evaluated(readiness.newest_evaluation, now))
    elif readiness.routes:
        opening = f"{feature.name} is live in production but nothing is eligible to serve it"
    elif readiness.sandbox:
        by_version: dict[int, list[str]] = {}
        for region, number in readiness.sandbox:
            by_version.setdefault(number, []).append(region)
        only = join_and([f"v{number} in {where(regions)}" for number, regions in sorted(by_version.items())])
        opening = f"{feature.name} is not live in production (sandbox only: {only})"
    else:
        opening = f"{feature.name} is not live anywhere"
    clauses.append(f"risk tier {feature.risk_tier}")
    clauses.append(f"owned by {person(feature.accountable_owner)}")
    monitors = monitor_names(feature)
    if monitors:
        clauses.append(f"monitored by {join_and(monitors)}")
    rolls_back = _rolls_back(readiness)
    if rolls_back:
        clauses.append(rolls_back)
    text = opening + ", " + ", ".join(clauses)
    gaps = [item.gap for item in readiness.items if not item.ok and item.gap]
    if gaps:
        text += "; " + join_and(gaps)
    return text + "."
