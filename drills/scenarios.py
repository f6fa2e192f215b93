"""A drill: every live route decided by the resolve engine as things are and with a scenario applied.

Reads only, in a fixed number of queries (``routing.impact.scenario_changes``: eight, however many
deployments there are); nothing live changes. The result is plain JSON, kept on ``DrillRun.result``:

- ``rows``: each affected route (feature, environment, region), its outcome (loses its route, moves to
  a fallback, keeps its route with warnings), what serves now and after, the reasons and new warnings,
  and the regions where the same feature and environment still has a route;
- ``unaffected`` and ``refused_before``: ``[feature_id, restricted, count]`` per feature, so each reader's
  figures count only the features they may see.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError

from drills.choices import MAX_DAYS, OUTCOME_HELP, DrillKind, Outcome
from registry.models import CatalogModel, Deployment, Region, Vendor
from routing.engine import FAIL, Scenario
from routing.impact import RouteChange, scenario_changes

OUTCOME_ORDER = {Outcome.LOSES: 0, Outcome.MOVES: 1, Outcome.WARNED: 2}

EVIDENCE_NOTE = (
    "Stale evidence does not take a route away: resolve keeps serving and only warns. It blocks promotions "
    "of the version (the gate needs fresh evidence) and the freshness sweep opens a finding for its owner."
)


@dataclass(frozen=True)
class DrillSpec:
    """A scenario with its subject: ``vendor``, ``model``, ``region`` or ``days``, as the kind needs."""

    kind: str
    vendor: Vendor | None = None
    model: CatalogModel | None = None
    region: Region | None = None
    days: int | None = None

    @property
    def title(self) -> str:
        return {
            DrillKind.VENDOR_UNAVAILABLE: lambda: f"Vendor {self.vendor.name} unavailable",
            DrillKind.MODEL_SUSPENDED: lambda: f"Model {self.model.vendor.slug}/{self.model.identifier} suspended",
            DrillKind.REGION_LOST: lambda: f"Region {self.region.code} ({self.region.name}) lost",
            DrillKind.EVIDENCE_AGED: lambda: f"Evidence {self.days} day{'s' if self.days != 1 else ''} older",
        }[self.kind]()

    @property
    def parameters(self) -> dict:
        return {
            DrillKind.VENDOR_UNAVAILABLE: lambda: {"vendor": self.vendor.slug},
            DrillKind.MODEL_SUSPENDED: lambda: {
                "model": self.model.pk,
                "model_label": f"{self.model.vendor.slug}/{self.model.identifier}",
            },
            DrillKind.REGION_LOST: lambda: {"region": self.region.code},
            DrillKind.EVIDENCE_AGED: lambda: {"days": self.days},
        }[self.kind]()

    def scenario(self, now: datetime) -> Scenario:
        if self.kind == DrillKind.VENDOR_UNAVAILABLE:
            return Scenario(suspended_vendors=frozenset({self.vendor.slug}))
        if self.kind == DrillKind.MODEL_SUSPENDED:
            return Scenario(suspended_models=frozenset({self.model.pk}))
        if self.kind == DrillKind.REGION_LOST:
            return Scenario(lost_regions=frozenset({self.region.code}))
        return Scenario(evidence_at=now + timedelta(days=self.days))


def drill_spec(*, kind: str, vendor=None, model=None, region=None, days=None) -> DrillSpec:
    """Check the scenario has the subject its kind needs; ``ValidationError`` by field otherwise."""
    if kind not in DrillKind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(DrillKind.values)}."})
    needs = {
        DrillKind.VENDOR_UNAVAILABLE: ("vendor", vendor, "Choose the vendor that becomes unavailable."),
        DrillKind.MODEL_SUSPENDED: ("model", model, "Choose the model that is suspended."),
        DrillKind.REGION_LOST: ("region", region, "Choose the region that is lost."),
        DrillKind.EVIDENCE_AGED: ("days", days, f"Say how many days older the evidence is (1 to {MAX_DAYS})."),
    }
    name, value, message = needs[kind]
    if value is None or (name == "days" and not (isinstance(value, int) and 1 <= value <= MAX_DAYS)):
        raise ValidationError({name: message})
    return DrillSpec(kind=kind, **{name: value})


@dataclass
class DrillResult:
    rows: list[dict]
    unaffected: list[list]
    refused_before: list[list]

    def as_json(self) -> dict:
        return {"rows": self.rows, "unaffected": self.unaffected, "refused_before": self.refused_before}

    @property
    def routes_total(self) -> int:
        return len(self.rows) + sum(n for *_, n in self.unaffected) + sum(n for *_, n in self.refused_before)

    def count(self, outcome: str) -> int:
        return sum(row["outcome"] == outcome for row in self.rows)

    @property
    def features_affected(self) -> int:
        return len({row["feature_id"] for row in self.rows})


def _outcome(change: RouteChange) -> str | None:
    before, after = change.before, change.after
    if not before.ok:
        return None  # already without a route: the scenario cannot make it worse
    if not after.ok:
        return Outcome.LOSES
    if before.served.id != after.served.id:
        return Outcome.MOVES
    fewer_fallbacks = [m.id for m in after.fallbacks] != [m.id for m in before.fallbacks]
    if fewer_fallbacks or set(after.warnings) - set(before.warnings):
        return Outcome.WARNED
    return None


def _route(decision) -> dict | None:
    if not decision.ok:
        return None
    return {"route": decision.served.role, "model": decision.served.label}


def _row(change: RouteChange, outcome: str, still_served: list[str]) -> dict:
    facts, before, after = change.facts, change.before, change.after
    new_warnings = [warning for warning in after.warnings if warning not in set(before.warnings)]
    summary = change.summary
    lost_fallbacks = [model.label for model in before.fallbacks if model.id not in {m.id for m in after.fallbacks}]
    if outcome == Outcome.WARNED and lost_fallbacks:
        summary = f"keeps {after.served.role} {after.served.label}; no longer falls back to {', '.join(lost_fallbacks)}"
    return {
        "feature_id": facts.feature_id,
        "feature_slug": facts.feature_slug,
        "feature_name": facts.feature_name,
        "restricted": facts.restricted,
        "team_id": facts.team_id,
        "risk_tier": facts.risk_tier,
        "environment": facts.environment,
        "region": facts.region,
        "version": facts.version_number,
        "outcome": outcome,
        "summary": summary,
        "serves_now": _route(before),
        "serves_after": _route(after),
        "fallbacks_now": [model.label for model in before.fallbacks],
        "fallbacks_after": [model.label for model in after.fallbacks],
        "reasons": [step["detail"] for step in after.explanation if step["outcome"] == FAIL] if not after.ok else [],
        "warnings": new_warnings,
        "still_served_in": still_served,
    }


def drill_evaluate(spec: DrillSpec, *, now: datetime, deployments=None) -> DrillResult:
    """Decide every live deployment (or those of ``deployments``) with the scenario applied. Reads only."""
    deployments = Deployment.objects.all() if deployments is None else deployments
    changes = scenario_changes(deployments, scenario=spec.scenario(now), now=now)
    served_after: dict[tuple[int, str], set[str]] = defaultdict(set)
    for change in changes:
        if change.after.ok:
            served_after[(change.facts.feature_id, change.facts.environment)].add(change.facts.region)
    rows, unaffected, refused = [], Counter(), Counter()
    for change in changes:
        facts = change.facts
        outcome = _outcome(change)
        if outcome is None:
            (refused if not change.before.ok else unaffected)[(facts.feature_id, facts.restricted)] += 1
            continue
        still = sorted(served_after[(facts.feature_id, facts.environment)] - {facts.region})
        rows.append(_row(change, outcome, still))
    rows.sort(key=lambda row: (OUTCOME_ORDER[row["outcome"]], row["feature_name"], row["environment"], row["region"]))
    as_list = lambda counter: [[feature_id, restricted, n] for (feature_id, restricted), n in sorted(counter.items())]  # noqa: E731
    return DrillResult(rows=rows, unaffected=as_list(unaffected), refused_before=as_list(refused))


# --- Reading a report ---------------------------------------------------------------------------


@dataclass
class Report:
    """A drill result as one reader may see it: only the features they may see, grouped by outcome."""

    kind: str
    groups: list[dict] = field(default_factory=list)  # {outcome, label, help, rows}
    places: list[dict] = field(default_factory=list)  # {environment, region, loses, moves, warned}
    routes_total: int = 0
    routes_lost: int = 0
    routes_moved: int = 0
    routes_warned: int = 0
    features_affected: int = 0
    refused_before: int = 0
    hidden: bool = False  # some routes were left out: features the reader may not see

    @property
    def affected(self) -> int:
        return self.routes_lost + self.routes_moved + self.routes_warned

    @property
    def unaffected(self) -> int:
        return self.routes_total - self.affected - self.refused_before

    @property
    def evidence_note(self) -> str:
        return EVIDENCE_NOTE if self.kind == DrillKind.EVIDENCE_AGED else ""


def visible_report(kind: str, result: dict, *, may_see) -> Report:
    """``may_see(feature_id, restricted) -> bool`` decides each row (the reader's identity, cached)."""
    rows = [row for row in result.get("rows", []) if may_see(row["feature_id"], row["restricted"])]
    unaffected = [n for feature_id, restricted, n in result.get("unaffected", []) if may_see(feature_id, restricted)]
    refused = [n for feature_id, restricted, n in result.get("refused_before", []) if may_see(feature_id, restricted)]
    everything = len(result.get("rows", [])) + len(result.get("unaffected", [])) + len(result.get("refused_before", []))
    report = Report(
        kind=kind, refused_before=sum(refused), hidden=len(rows) + len(unaffected) + len(refused) < everything
    )
    by_outcome: dict[str, list] = defaultdict(list)
    places: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for row in rows:
        by_outcome[row["outcome"]].append(row)
        places[(row["environment"], row["region"])][row["outcome"]] += 1
    report.groups = [
        {"outcome": outcome.value, "label": outcome.label, "help": OUTCOME_HELP[outcome], "rows": by_outcome[outcome]}
        for outcome in Outcome
        if by_outcome[outcome]
    ]
    report.places = [
        {
            "environment": environment,
            "region": region,
            "loses": counts[Outcome.LOSES],
            "moves": counts[Outcome.MOVES],
            "warned": counts[Outcome.WARNED],
        }
        for (environment, region), counts in sorted(places.items())
    ]
    report.routes_lost = len(by_outcome[Outcome.LOSES])
    report.routes_moved = len(by_outcome[Outcome.MOVES])
    report.routes_warned = len(by_outcome[Outcome.WARNED])
    report.features_affected = len({row["feature_id"] for row in rows})
    report.routes_total = len(rows) + sum(unaffected) + sum(refused)
    return report
