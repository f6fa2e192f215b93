"""Which live routes a catalog change alters: each deployment decided as things are and as they would be."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import Q, QuerySet
from django.utils import timezone

from core.kept import kept
from registry.choices import ModelStatus, VendorStatus
from registry.models import CatalogModel, Deployment, Vendor, VersionFallback
from registry.selectors import features_visible_to, versions_depending_on
from routing import cache as routing_cache
from routing.engine import (
    Decision,
    Facts,
    ModelFacts,
    RouteTable,
    Scenario,
    decide,
    load_facts_many,
    load_route_table,
    serving_model,
)


@dataclass
class Outcome:
    """Which model serves a route (None: none is eligible), without ``decide``'s explanation: all a catalog
    change's routes show (``routing.engine.serving_model`` applies ``decide``'s rules)."""

    facts: Facts
    served: ModelFacts | None

    @property
    def ok(self) -> bool:
        return self.served is not None


@dataclass
class RouteChange:
    before: Decision | Outcome
    after: Decision | Outcome

    @property
    def facts(self) -> Facts:
        return self.before.facts

    @property
    def changed(self) -> bool:
        return (self.before.served and self.before.served.id) != (self.after.served and self.after.served.id)

    @property
    def summary(self) -> str:
        before, after = self.before.served, self.after.served
        if not self.changed:
            return "unchanged: " + (f"{before.role} {before.label} serves" if before else "no eligible route")
        if after is None:
            return f"loses its route: {before.role} {before.label} may no longer serve and no fallback is eligible"
        if before is None:
            return f"gets a route back: {after.role} {after.label} serves"
        return f"moves from {before.role} {before.label} to {after.role} {after.label}"

    @property
    def tone(self) -> str:
        if not self.changed:
            return ""
        return "bad" if self.after.served is None else "warn"


CATALOG_ACTIONS = frozenset({"vendor.suspended", "vendor.reinstated", "model.suspended", "model.reinstated"})
GATE_ACTIONS = frozenset({"gate_policy.updated", "gate_assignment.updated"})


def features_affected(event) -> set[int] | None:
    """The features whose decisions (and readiness) an audited catalog or gate change can alter: a vendor's or
    a model's suspension those with a version pinning it (or one of the vendor's models) as primary or
    fallback; a gate policy's edit those of the risk tiers the gate is assigned to; a gate assignment those
    of its tier. None for any other change (the caller renews the epoch: everything)."""
    from approvals.models import GateAssignment, GatePolicy
    from registry.models import AIFeature, FeatureVersion

    if event.action in CATALOG_ACTIONS:
        kind = event.action.split(".")[0]
        models = CatalogModel.objects.filter(
            **({"vendor_id": event.object_id} if kind == "vendor" else {"pk": event.object_id})
        )
        versions = versions_depending_on("model", models, user=None).values("pk")
        return set(FeatureVersion.objects.filter(pk__in=versions).values_list("feature_id", flat=True)) | set(
            Deployment.objects.filter(version__in=versions).values_list("feature_id", flat=True)
        )
    if event.action == "gate_policy.updated":
        gates = GatePolicy.objects.filter(pk=event.object_id).values("gate")
        tiers = GateAssignment.objects.filter(gate__in=gates).values("risk_tier")
        return set(AIFeature.objects.filter(risk_tier__in=tiers).values_list("pk", flat=True))
    if event.action == "gate_assignment.updated":
        tier = (event.payload or {}).get("risk_tier")
        return set(AIFeature.objects.filter(risk_tier=tier).values_list("pk", flat=True)) if tier else None
    return None


def _routes_using(models) -> QuerySet[Deployment]:
    """The deployments whose version pins one of ``models`` as primary or fallback: what
    ``versions_depending_on("model", ...)`` says of versions, asked of the live pointers, which are few
    next to every version ever made. The primary through the deployment's own version (one per deployment:
    nothing repeated, no DISTINCT) and the fallbacks by subquery."""
    fallbacks = VersionFallback.objects.filter(model__in=models).values("version_id")
    return Deployment.objects.filter(Q(version__model__in=models) | Q(version_id__in=fallbacks))


def _flipped(model_facts: ModelFacts, *, vendor: Vendor | None, model: CatalogModel | None, status: str) -> ModelFacts:
    """A model's facts with ``vendor`` (or ``model``) given ``status``."""
    if vendor is not None and model_facts.vendor == vendor.slug:
        return replace(model_facts, vendor_status=status)
    if model is not None and model_facts.id == model.pk:
        return replace(model_facts, status=status)
    return model_facts


def _with_status(facts: Facts, *, vendor: Vendor | None, model: CatalogModel | None, status: str) -> Facts:
    return replace(
        facts, models=[_flipped(model_facts, vendor=vendor, model=model, status=status) for model_facts in facts.models]
    )


# Where the order of a vendor's (model's) routes is kept for those who see the same features: routing's
# generation (renewed with any feature's stamp: a promotion, a rollback, a withdrawal, a catalog or policy
# change, a rename), the entry and the status it is judged against, and who sees what
# (``registry.selectors.visibility_key``). The bound is for a change made behind the services.
ORDER_KEY = "routing:catalog-routes:{generation}:{kind}:{pk}:{status}:{viewer}"
KEPT_SECONDS = 600
UNCHANGED, MOVED, LOST = 0, 1, 2  # what the flipped status does to a route


class CatalogRoutes:
    """The live routes through a vendor's models (or a model), each judged as things are and with the
    vendor (model) given another status: changed routes first, then by feature name and region.

    Five queries of plain rows however many routes there are (``load_route_table``), and each distinct
    combination of what the rules read (feature status, region, policy pack, models) judged once each way
    (``serving_model``: which model serves, by ``decide``'s rules, without the explanation nobody reads
    here), not each route: thousands of routes share a few dozen. What only adds warnings (freeze,
    evidence) is left out: a change of status never moves it.

    A sequence of ``RouteChange``: ``len()`` is the number of routes, and a slice builds the changes of
    those routes only (what a page shows), so Django's and DRF's paginators page it as they page a
    queryset. ``changed`` and ``lost`` count without building any.

    With ``viewer`` (``registry.selectors.visibility_key`` of ``user``), the order (each route's id and
    what the change does to it) is kept in the shared cache under routing's generation: the next visit of
    anyone who sees the same reads only the rows of its page, however many routes there are. The rows shown
    are always judged from the database."""

    def __init__(
        self,
        *,
        vendor: Vendor | None = None,
        model: CatalogModel | None = None,
        status: str,
        user=None,
        viewer: str | None = None,
    ):
        self._vendor, self._model, self._status = vendor, model, status
        models = vendor.models.all() if vendor is not None else CatalogModel.objects.filter(pk=model.pk)
        self._visible = Q(feature__in=features_visible_to(user)) if user is not None else Q()
        self._judged: tuple[RouteTable, dict[int, tuple]] | None = None  # every route, when judged here
        key = None
        if viewer is not None and (generation := routing_cache.current_generation()) is not None:
            entry = vendor if vendor is not None else model
            key = ORDER_KEY.format(
                generation=generation, kind=type(entry).__name__.lower(), pk=entry.pk, status=status, viewer=viewer
            )
        self._order, self.changed, self.lost = kept(key, lambda: (self._judge_every_route(models), KEPT_SECONDS))

    def _judge(self, deployments) -> tuple[RouteTable, dict[int, tuple]]:
        """The table ``deployments`` are read into, and each of their routes by id: (its row, who serves
        now, who after)."""
        table = load_route_table(deployments)
        flipped: dict[int, ModelFacts] = {}  # id() of a model's facts -> the same with the status changed
        judged: dict[tuple, tuple] = {}  # rule key -> (serves now, serves after)
        routes = {}
        for row in table.rows:
            key = table.rule_key(row)
            if key not in judged:
                facts = table.rule_facts(row)
                after = []
                for model_facts in facts.models:
                    if id(model_facts) not in flipped:
                        flipped[id(model_facts)] = _flipped(
                            model_facts, vendor=self._vendor, model=self._model, status=self._status
                        )
                    after.append(flipped[id(model_facts)])
                judged[key] = (serving_model(facts), serving_model(facts, models=after))
            routes[row[table.PK]] = (row, *judged[key])
        return table, routes

    def _judge_every_route(self, models) -> tuple[list[tuple[int, int]], int, int]:
        """Every route's id and what the change does to it, changed first, then as the catalog pages always
        listed them (by feature name, region, environment); and how many are changed, and lost."""
        self._judged = table, routes = self._judge(_routes_using(models).filter(self._visible))
        order = []
        for pk, (row, now, then) in routes.items():
            state = UNCHANGED if (now and now.id) == (then and then.id) else LOST if then is None else MOVED
            sort_key = (state == UNCHANGED, row[table.NAME], row[table.REGION], row[table.ENVIRONMENT], pk)
            order.append((sort_key, pk, state))
        order.sort()
        changed = sum(state != UNCHANGED for _sort_key, _pk, state in order)
        lost = sum(state == LOST for _sort_key, _pk, state in order)
        return [(pk, state) for _sort_key, pk, state in order], changed, lost

    def __len__(self) -> int:
        return len(self._order)

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1 or None][0]
        ids = [pk for pk, _state in self._order[index]]
        if not ids:
            return []
        # Judged in this process, or the order was kept: then judge the page's routes only.
        table, routes = self._judged or self._judge(Deployment.objects.filter(self._visible, pk__in=ids))
        shown = [routes[pk] for pk in ids if pk in routes]  # one gone behind the services is left out
        return [
            RouteChange(Outcome(facts, now), Outcome(facts, then))
            for facts, (_row, now, then) in zip(table.facts([row for row, _now, _then in shown]), shown)
        ]


def route_changes(
    *, vendor: Vendor | None = None, model: CatalogModel | None = None, status: str, user=None
) -> list[RouteChange]:
    """Every live route through ``vendor``'s models (or ``model``), before and after it takes ``status``;
    with ``user``, only the routes of the features they may see. Changed routes first (``CatalogRoutes``)."""
    return CatalogRoutes(vendor=vendor, model=model, status=status, user=user)[:]


def scenario_changes(deployments, *, scenario: Scenario, now=None) -> list[RouteChange]:
    """Every deployment in a queryset decided as things are and with ``scenario`` applied (drills):
    eight queries however many there are. Reads only."""
    return [
        RouteChange(decide(facts), decide(facts, scenario=scenario))
        for facts in load_facts_many(deployments, now=now or timezone.now())
    ]


SUSPEND = {"vendor": VendorStatus.SUSPENDED, "model": ModelStatus.SUSPENDED}
REINSTATE = {"vendor": VendorStatus.APPROVED, "model": ModelStatus.APPROVED}
