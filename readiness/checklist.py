"""Each feature's readiness checklist, computed for many features at once in a fixed number of queries.

The rules are the other apps': the gate's evidence rule (``approvals.checks`` through the resolve
engine's facts, which judge each live version by it), the freshness sweep's open findings (due-soon
notes), the gate's readiness checks (``approvals.checks.readiness_checks``), the resolve engine's
``decide`` (which fallback would be eligible in each live region) and the registry's rollback rule
(``rollback_candidate_ids``). Nothing here writes.

"Live" means live in production: readiness is about what customers get.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from approvals.checks import readiness_checks
from approvals.choices import ReadinessItem
from connectors.selectors import open_drift_by_feature
from freshness.choices import FindingKind, FindingState
from freshness.models import FreshnessFinding
from readiness.choices import LIVE_ITEMS, ReadinessCheck
from readiness.sentence import join_and as _and
from readiness.sentence import monitor_names, person, place, sentence_for, where
from registry.choices import DeploymentEventKind, Environment, FeatureStatus, VersionStatus
from registry.models import AIFeature, Deployment, DeploymentEvent, FeatureVersion
from registry.services.deployments import rollback_candidate_ids
from routing.engine import Decision, decide, load_facts_and_evaluations


@dataclass(frozen=True)
class Item:
    """One checklist line: in place or missing, a short detail, and (when missing) what the sentence says."""

    key: str
    ok: bool
    detail: str
    gap: str = ""

    @property
    def label(self) -> str:
        return ReadinessCheck(self.key).label

    @property
    def live_only(self) -> bool:
        return self.key in LIVE_ITEMS


@dataclass
class Route:
    """One live production pointer and what resolve would decide for it now."""

    region: str
    version_id: int
    version_number: int
    decision: Decision


@dataclass
class FeatureReadiness:
    feature: AIFeature
    items: list[Item]
    routes: list[Route] = field(default_factory=list)
    sandbox: list[tuple[str, int]] = field(default_factory=list)  # (region, version number) live in sandbox only
    rollback_to: dict[str, int] = field(default_factory=dict)  # region -> version number
    newest_evaluation: object = None
    sentence: str = ""

    @property
    def live(self) -> bool:
        return bool(self.routes)

    @property
    def refused(self) -> list[tuple[str, str]]:
        """The live production routes resolve refuses now, as (region, its reason): a suspension or a
        policy change since they went live (a paused or retired feature is off by its owners' choice)."""
        if self.feature.status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED):
            return []
        return [(route.region, route.decision.refusal) for route in self.routes if not route.decision.ok]

    @property
    def ok_count(self) -> int:
        return sum(item.ok for item in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def score(self) -> float:
        return self.ok_count / self.total if self.total else 0.0

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def ready(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def missing(self) -> list[str]:
        return [item.key for item in self.items if not item.ok]

    @property
    def missing_items(self) -> list[Item]:
        return [item for item in self.items if not item.ok]

    def item(self, key: str) -> Item:
        return next(item for item in self.items if item.key == key)

    def as_items_map(self) -> dict[str, bool]:
        return {item.key: item.ok for item in self.items}


# --- Computing -----------------------------------------------------------------------------------


def readiness_many(
    features, *, now: datetime | None = None, policies: dict[str, dict] | None = None
) -> list[FeatureReadiness]:
    """The readiness of every feature of a queryset, in its order, in a constant number of queries
    (about fifteen, however many features, deployments and evaluations there are).

    ``policies`` (gate -> requirements snapshot) judges evidence by a proposed gate policy instead of the
    stored one (``routing.engine.load_facts_and_evaluations``): what a gate change would do."""
    now = now or timezone.now()
    if isinstance(features, (list, tuple)):  # instances already loaded with their team and owners (a page's)
        features = list(features)
    else:
        features = list(features.select_related("team", "accountable_owner", "incident_owner"))
    if not features:
        return []
    ids = [feature.pk for feature in features]

    routes: dict[int, list[Route]] = defaultdict(list)
    sandbox: dict[int, list[tuple[str, int]]] = defaultdict(list)
    facts_list, newest = load_facts_and_evaluations(
        Deployment.objects.filter(feature_id__in=ids), now=now, policies=policies
    )
    for facts in facts_list:
        if facts.environment == Environment.PRODUCTION:
            routes[facts.feature_id].append(Route(facts.region, facts.version_id, facts.version_number, decide(facts)))
        else:
            sandbox[facts.feature_id].append((facts.region, facts.version_number))

    history: dict[tuple[int, str], list] = defaultdict(list)  # (feature, region) -> events, newest first
    approved_versions: set[tuple[int, int]] = set()  # (feature, version) promoted to production on an approval
    live_ids = [feature_id for feature_id in ids if routes.get(feature_id)]  # history matters only where live
    for feature_id, region, kind, from_id, to_id, at, approval_id in (
        DeploymentEvent.objects.filter(feature_id__in=live_ids, environment=Environment.PRODUCTION)
        .order_by("-at", "-id")
        .values_list(
            "feature_id", "region__code", "kind", "from_version_id", "to_version_id", "at", "approval_request_id"
        )
    ):
        history[(feature_id, region)].append((kind, from_id, to_id, at))
        if kind == DeploymentEventKind.PROMOTED and approval_id is not None:
            approved_versions.add((feature_id, to_id))

    candidates: dict[tuple[int, str], list[int]] = {}
    for feature_id in ids:
        for route in routes.get(feature_id, []):
            candidates[(feature_id, route.region)] = rollback_candidate_ids(
                history.get((feature_id, route.region), []), current_version_id=route.version_id
            )
    candidate_ids = {pk for found in candidates.values() for pk in found}
    usable = (
        dict(
            FeatureVersion.objects.filter(pk__in=candidate_ids, status=VersionStatus.SUBMITTED).values_list(
                "pk", "number"
            )
        )
        if candidate_ids
        else {}
    )

    live_version_ids = {route.version_id for found in routes.values() for route in found}
    due_soon: dict[int, list[tuple[int, str]]] = defaultdict(list)
    if live_version_ids:
        for feature_id, version_id, kind in FreshnessFinding.objects.filter(
            version_id__in=live_version_ids,
            kind=FindingKind.EVIDENCE,
            environment=Environment.PRODUCTION,
            closed_at__isnull=True,
            state=FindingState.DUE_SOON,
        ).values_list("feature_id", "version_id", "evidence_kind"):
            due_soon[feature_id].append((version_id, kind))

    drift = open_drift_by_feature(ids)  # MLflow aliases moved outside Gatehouse
    results = []
    for feature in features:
        feature_routes = sorted(routes.get(feature.pk, []), key=lambda route: route.region)
        rollback_to = {}
        for route in feature_routes:
            numbers = [usable[pk] for pk in candidates.get((feature.pk, route.region), []) if pk in usable]
            if numbers:
                rollback_to[route.region] = numbers[0]
        evaluations = [
            evaluation for route in feature_routes for evaluation in newest.get(route.version_id, {}).values()
        ]
        readiness = FeatureReadiness(
            feature=feature,
            items=[],
            routes=feature_routes,
            sandbox=sorted(sandbox.get(feature.pk, [])),
            rollback_to=rollback_to,
            newest_evaluation=_headline(evaluations),
        )
        readiness.items = _items(
            readiness,
            approved_versions=approved_versions,
            due_soon=due_soon.get(feature.pk, []),
            drift=drift.get(feature.pk),
        )
        readiness.sentence = sentence_for(readiness, now=now)
        results.append(readiness)
    return results


def _headline(evaluations):
    """The evaluation the sentence quotes: the newest benchmark of the live versions, else the newest of any kind."""
    if not evaluations:
        return None
    benchmarks = [evaluation for evaluation in evaluations if evaluation.kind == "benchmark"]
    return max(benchmarks or evaluations, key=lambda evaluation: (evaluation.run_at, evaluation.pk))


def readiness_one(feature: AIFeature, *, now: datetime | None = None) -> FeatureReadiness:
    """One feature's readiness (the instance is used as it is: load its team and owners with it)."""
    return readiness_many([feature], now=now)[0]


# --- The items -----------------------------------------------------------------------------------

_GATE_ITEMS = [ReadinessItem.INCIDENT_OWNER, ReadinessItem.MONITOR, ReadinessItem.ROLLBACK_PATH, ReadinessItem.SLOS]
NOT_LIVE = "Not live in production."


def _items(readiness: FeatureReadiness, *, approved_versions, due_soon, drift=None) -> list[Item]:
    feature = readiness.feature
    gate = {check.key: check for check in readiness_checks({"readiness": _GATE_ITEMS}, feature)}
    return [
        _accountable_owner(feature),
        _incident_owner(feature, gate[ReadinessItem.INCIDENT_OWNER].ok),
        _monitor(feature, gate[ReadinessItem.MONITOR].ok),
        _rollback(readiness, documented=gate[ReadinessItem.ROLLBACK_PATH].ok),
        _slos(feature, gate[ReadinessItem.SLOS].ok),
        _evidence(readiness, due_soon),
        _fallback(readiness),
        _approved(readiness, approved_versions, drift),
    ]


def _accountable_owner(feature) -> Item:
    owner = feature.accountable_owner
    if owner.is_active:
        return Item(ReadinessCheck.ACCOUNTABLE_OWNER, True, person(owner))
    return Item(
        ReadinessCheck.ACCOUNTABLE_OWNER,
        False,
        f"{person(owner)}'s account is deactivated.",
        f"its accountable owner {person(owner)} is no longer active",
    )


def _incident_owner(feature, ok: bool) -> Item:
    owner = feature.incident_owner
    if ok:
        return Item(ReadinessCheck.INCIDENT_OWNER, True, person(owner))
    return Item(
        ReadinessCheck.INCIDENT_OWNER,
        False,
        f"{person(owner)}'s account is deactivated: nobody is paged.",
        "no active incident owner is named",
    )


def _monitor(feature, ok: bool) -> Item:
    if ok:
        return Item(ReadinessCheck.MONITOR, True, ", ".join(monitor_names(feature)))
    return Item(ReadinessCheck.MONITOR, False, "No monitor link on the feature.", "no monitor is registered")


def _slos(feature, ok: bool) -> Item:
    if ok:
        lines = feature.slo_lines
        return Item(ReadinessCheck.SLOS, True, "; ".join(lines[:3]) + ("…" if len(lines) > 3 else ""))
    return Item(ReadinessCheck.SLOS, False, "No service-level objective on the feature.", "no SLOs are set")


def _rollback(readiness: FeatureReadiness, *, documented: bool) -> Item:
    feature = readiness.feature
    parts = [f"v{number} in {place(region)}" for region, number in sorted(readiness.rollback_to.items())]
    without = [route.region for route in readiness.routes if route.region not in readiness.rollback_to]
    if parts and not without:
        detail = "Rolls back to " + ", ".join(parts) + "."
        if documented:
            detail += " Documented: " + feature.rollback_path.strip()[:120]
        return Item(ReadinessCheck.ROLLBACK_PATH, True, detail)
    if documented:
        detail = "Documented: " + feature.rollback_path.strip()[:160]
        if without:
            detail += f" (no earlier approved version to return to in {where(without)})"
        return Item(ReadinessCheck.ROLLBACK_PATH, True, detail)
    if without and parts:
        return Item(
            ReadinessCheck.ROLLBACK_PATH,
            False,
            f"No earlier approved version to return to in {where(without)}, and no documented rollback path.",
            f"nothing to roll back to in {where(without)}",
        )
    return Item(
        ReadinessCheck.ROLLBACK_PATH,
        False,
        "No earlier approved version to return to, and no documented rollback path.",
        "there is no rollback path",
    )


def _evidence(readiness: FeatureReadiness, due_soon) -> Item:
    if not readiness.routes:
        return Item(ReadinessCheck.EVIDENCE, False, NOT_LIVE, "")
    seen, bad, judged, gates = set(), [], 0, set()
    for route in readiness.routes:
        facts = route.decision.facts
        if facts.gate:
            gates.add(facts.gate)
        for evidence in facts.evidence:
            if (route.version_id, evidence["kind"]) in seen:
                continue
            seen.add((route.version_id, evidence["kind"]))
            judged += 1
            if evidence["state"] != "ok":
                bad.append((route.version_number, evidence))
    if not gates:
        return Item(ReadinessCheck.EVIDENCE, True, "No gate is assigned to this tier in production.")
    gate_text = " and ".join(sorted(gates))
    if bad:
        detail = "; ".join(
            f"{e['label']} of v{number} is {e['state'].replace('_', ' ')}: {e['detail']}" for number, e in bad
        )
        kinds = []
        for _number, e in bad:
            phrase = f"{e['label'].lower()} evidence is {e['state'].replace('_', ' ')}"
            if phrase not in kinds:
                kinds.append(phrase)
        return Item(ReadinessCheck.EVIDENCE, False, detail, _and(kinds))
    detail = f"Every kind the {gate_text} gate requires is fresh and passing ({judged} checked)."
    if due_soon:
        numbers = {route.version_id: route.version_number for route in readiness.routes}
        soon = ", ".join(
            f"{kind.replace('_', ' ')} of v{numbers.get(version_id, '?')}" for version_id, kind in due_soon
        )
        detail += f" Due soon: {soon}."
    return Item(ReadinessCheck.EVIDENCE, True, detail)


def _fallback(readiness: FeatureReadiness) -> Item:
    if not readiness.routes:
        return Item(ReadinessCheck.FALLBACK, False, NOT_LIVE, "")
    no_route = [route.region for route in readiness.routes if not route.decision.ok]
    none_left = [route.region for route in readiness.routes if route.decision.ok and not route.decision.fallbacks]
    parts = []
    for route in readiness.routes:
        decision = route.decision
        if not decision.ok:
            parts.append(f"{route.region.upper()}: nothing is eligible to serve ({decision.refusal})")
        elif decision.fallbacks:
            parts.append(
                f"{route.region.upper()}: {decision.fallbacks[0].identifier}"
                + (f" (+{len(decision.fallbacks) - 1})" if len(decision.fallbacks) > 1 else "")
            )
        else:
            parts.append(f"{route.region.upper()}: none eligible beyond {decision.served.identifier}")
    detail = "; ".join(parts) + "."
    gaps = []
    if none_left:
        gaps.append(f"no fallback is eligible in {where(none_left)}")
    if no_route:
        gaps.append(f"nothing is eligible to serve in {where(no_route)}")
    return Item(ReadinessCheck.FALLBACK, not gaps, detail, _and(gaps))


def _approved(readiness: FeatureReadiness, approved_versions, drift=None) -> Item:
    if not readiness.routes:
        return Item(ReadinessCheck.APPROVED_PRODUCTION, False, NOT_LIVE, "")
    if drift is not None:  # what serves may not be what Gatehouse approved
        return Item(
            ReadinessCheck.APPROVED_PRODUCTION,
            False,
            drift.detail,
            f"MLflow's @{drift.alias} moved outside Gatehouse",
        )
    feature_id = readiness.feature.pk
    unapproved: dict[int, list[str]] = defaultdict(list)
    approved: dict[int, list[str]] = defaultdict(list)
    for route in readiness.routes:
        target = approved if (feature_id, route.version_id) in approved_versions else unapproved
        target[route.version_number].append(route.region)
    if not unapproved:
        detail = (
            "; ".join(
                f"v{number} went live in {where(regions)} through an approved request"
                for number, regions in sorted(approved.items())
            )
            + "."
        )
        return Item(ReadinessCheck.APPROVED_PRODUCTION, True, detail)
    gaps = [
        f"v{number} went live in {where(regions)} without an approved request"
        for number, regions in sorted(unapproved.items())
    ]
    detail = "; ".join(gaps) + "."
    return Item(ReadinessCheck.APPROVED_PRODUCTION, False, detail[0].upper() + detail[1:], _and(gaps))


def paused(feature) -> bool:
    return feature.status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED)
