"""Which live routes a catalog change alters: each deployment decided as things are and as they would be."""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import QuerySet
from django.utils import timezone

from registry.choices import ModelStatus, VendorStatus
from registry.models import CatalogModel, Deployment, Vendor
from registry.selectors import features_visible_to, versions_depending_on
from routing.engine import Decision, Facts, Scenario, decide, load_facts_many


@dataclass
class RouteChange:
    before: Decision
    after: Decision

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
    """The deployments whose version pins one of ``models`` as primary or fallback (by subquery: no join
    that repeats a deployment, so no DISTINCT over thousands of rows)."""
    return Deployment.objects.filter(version__in=versions_depending_on("model", models, user=None))


def _with_status(facts: Facts, *, vendor: Vendor | None, model: CatalogModel | None, status: str) -> Facts:
    def changed(model_facts):
        if vendor is not None and model_facts.vendor == vendor.slug:
            return replace(model_facts, vendor_status=status)
        if model is not None and model_facts.id == model.pk:
            return replace(model_facts, status=status)
        return model_facts

    return replace(facts, models=[changed(model_facts) for model_facts in facts.models])


def route_changes(
    *, vendor: Vendor | None = None, model: CatalogModel | None = None, status: str, user=None
) -> list[RouteChange]:
    """Every live route through ``vendor``'s models (or ``model``), before and after it takes ``status``;
    with ``user``, only the routes of the features they may see.

    A fixed number of queries however many routes there are. The decisions answer which model serves;
    the facts leave out what only adds warnings (freeze, evidence), which a change of status never moves
    and a route change never reads."""
    models = vendor.models.all() if vendor is not None else CatalogModel.objects.filter(pk=model.pk)
    routes = _routes_using(models)
    if user is not None:
        routes = routes.filter(feature__in=features_visible_to(user))
    changes = []
    for facts in load_facts_many(routes, now=timezone.now(), warnings=False):
        after = _with_status(facts, vendor=vendor, model=model, status=status)
        changes.append(RouteChange(decide(facts), decide(after)))
    return changes


def scenario_changes(deployments, *, scenario: Scenario, now=None) -> list[RouteChange]:
    """Every deployment in a queryset decided as things are and with ``scenario`` applied (drills):
    eight queries however many there are. Reads only."""
    return [
        RouteChange(decide(facts), decide(facts, scenario=scenario))
        for facts in load_facts_many(deployments, now=now or timezone.now())
    ]


SUSPEND = {"vendor": VendorStatus.SUSPENDED, "model": ModelStatus.SUSPENDED}
REINSTATE = {"vendor": VendorStatus.APPROVED, "model": ModelStatus.APPROVED}
