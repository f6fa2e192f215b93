"""The resolve engine: which configuration serves a feature in a region, which fallbacks may take
over, and why. The hot path of the registry (see ``routing.cache`` for how it is kept fast).

Two steps, so the same rules can be replayed against a changed world (a drill) without touching it:

- ``load_facts`` reads everything a decision depends on, in a fixed number of queries;
- ``decide`` applies the rules to those facts and returns a ``Decision``. It reads nothing.

The rules, in order:

1. **feature**: a paused or retired feature serves nothing (the router uses the operational fallback).
   **deployment**: no version live there serves nothing; a pointer the owners withdrew says so, and why.
2. **residency**: the version's policy pack must allow the region. It binds every model of the
   version, so a failure here leaves nothing eligible.
3. **hosting** and **suspension**, per model (the primary, then each fallback in order): the model
   must be hosted in the region, and neither it nor its vendor suspended. The first model that
   passes serves; the remaining eligible fallbacks follow it.
4. **freeze** (warns): an open SEV1/SEV2 incident freezes promotions; the live version keeps serving.
5. **evidence** (warns): evidence stale, failing or missing under the gate policy. The route stays
   (taking a feature off is the incident owner's call, not the clock's): promotions are blocked and
   the freshness finding escalates.

Nothing eligible is a refusal with the reasons, never a silently wrong route.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Exists, OuterRef

from approvals.checks import evidence_checks, latest_evaluations, stale_from
from approvals.models import GateAssignment, GatePolicy
from approvals.services import requirements_snapshot
from core import error_codes
from incidents.guards import incident_freezes
from registry.choices import DeploymentEventKind, Environment, FeatureStatus, ModelStatus, VendorStatus
from registry.models import (
    AIFeature,
    CatalogModel,
    Deployment,
    DeploymentEvent,
    FeatureVersion,
    PolicyPack,
    Region,
    VersionFallback,
)

PASS, FAIL, WARN = "pass", "fail", "warn"


class UnknownTarget(LookupError):
    """The feature or region does not exist (or the caller may not see the feature).

    An unknown region of an existing feature names the feature (``feature_id``, ``restricted``, ``slug``):
    whoever may not see it must get the answer for a feature that does not exist, not "no such region".
    """

    def __init__(self, message: str, *, feature_id: int | None = None, restricted: bool = False, slug: str = ""):
        super().__init__(message)
        self.feature_id = feature_id
        self.restricted = restricted
        self.slug = slug

    def __reduce__(self):  # kept in the shared cache: its feature must survive pickling
        return (_unknown_target, (str(self), self.feature_id, self.restricted, self.slug))


def _unknown_target(message, feature_id, restricted, slug):
    return UnknownTarget(message, feature_id=feature_id, restricted=restricted, slug=slug)


def unknown_feature(feature_slug: str) -> UnknownTarget:
    """The one answer for a feature that does not exist, or that the caller may not see."""
    return UnknownTarget(f"No feature has the slug '{feature_slug}'.")


@dataclass
class ModelFacts:
    id: int
    vendor: str
    vendor_name: str
    identifier: str
    display_name: str
    context_window: int
    status: str
    vendor_status: str
    regions: frozenset[str]
    position: int  # 0: the primary; 1..n: fallbacks in order

    @property
    def label(self) -> str:
        return f"{self.vendor}/{self.identifier}"

    @property
    def role(self) -> str:
        return "primary" if self.position == 0 else f"fallback {self.position}"

    def as_json(self) -> dict:
        return {
            "vendor": self.vendor,
            "identifier": self.identifier,
            "display_name": self.display_name,
            "context_window": self.context_window,
            "position": self.position,
        }


@dataclass
class Facts:
    """What one (feature, environment, region) decision depends on, as plain data."""

    feature_id: int
    feature_slug: str
    feature_name: str
    feature_status: str
    restricted: bool
    team_id: int
    risk_tier: str
    operational_fallback: str
    environment: str
    region_id: int
    region: str
    version_id: int | None = None
    version_number: int | None = None
    config_hash: str = ""
    live_since: datetime | None = None
    prompt: dict = field(default_factory=dict)
    policy_pack: dict = field(default_factory=dict)
    policy_regions: frozenset[str] = frozenset()
    tools: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    retrieval_index: str = ""
    models: list[ModelFacts] = field(default_factory=list)
    freeze: str | None = None
    gate: str = ""
    evidence: list[dict] = field(default_factory=list)  # {kind, label, state, detail, stale_at}
    withdrawn: dict | None = None  # no version live: the withdrawal that took it down {version, at, reason}
    deployment_id: int | None = None  # the live pointer decided (None: none, or a what-if)


@dataclass
class Scenario:
    """A hypothetical change applied to the facts before deciding (drills); nothing live changes."""

    suspended_vendors: frozenset[str] = frozenset()
    suspended_models: frozenset[int] = frozenset()
    lost_regions: frozenset[str] = frozenset()
    evidence_at: datetime | None = None  # judge evidence as of then (e.g. N days from now): ok items go stale

    def aged(self, evidence: list[dict]) -> list[dict]:
        """The evidence items as they would stand at ``evidence_at``: passing evidence whose stale date has
        come by then is stale (the rule of ``approvals.checks.evidence_state``; nothing else changes with time)."""
        if self.evidence_at is None:
            return evidence
        return [
            {
                **item,
                "state": "stale",
                "detail": f"It goes stale on {item['stale_at']:%d %b %Y} (drill: evidence "
                f"judged as of {self.evidence_at:%d %b %Y}).",
            }
            if item["state"] == "ok" and item["stale_at"] and item["stale_at"] <= self.evidence_at
            else item
            for item in evidence
        ]


@dataclass
class Decision:
    facts: Facts
    served: ModelFacts | None
    fallbacks: list[ModelFacts]
    explanation: list[dict]
    refusal: str = ""

    @property
    def ok(self) -> bool:
        return self.served is not None

    @property
    def warnings(self) -> list[str]:
        return [step["detail"] for step in self.explanation if step["outcome"] == WARN]

    def valid_until(self) -> datetime | None:
        """The first moment the same facts would give another answer (evidence going stale)."""
        times = [item["stale_at"] for item in self.facts.evidence if item["stale_at"] and item["state"] == "ok"]
        return min(times) if times else None

    def as_json(self) -> dict:
        """The answer, less what is per request (the decision token and the time)."""
        facts = self.facts
        body = {
            "feature": {"slug": facts.feature_slug, "name": facts.feature_name, "risk_tier": facts.risk_tier},
            "environment": facts.environment,
            "region": facts.region,
            "version": None,
            "explanation": self.explanation,
            "warnings": self.warnings,
        }
        if facts.version_id is not None:
            body["version"] = {
                "number": facts.version_number,
                "config_hash": facts.config_hash,
                "live_since": facts.live_since.isoformat() if facts.live_since else None,
            }
        if self.ok:
            body.update(
                {
                    "route": self.served.role,
                    "model": self.served.as_json(),
                    "fallbacks": [model.as_json() for model in self.fallbacks],
                    "prompt": facts.prompt,
                    "policy_pack": facts.policy_pack,
                    "tools": facts.tools,
                    "parameters": facts.parameters,
                    "retrieval_index": facts.retrieval_index,
                    "frozen": facts.freeze is not None,
                }
            )
        else:
            body["detail"] = self.refusal
            body["code"] = error_codes.NO_ELIGIBLE_ROUTE
            if facts.feature_status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED) and facts.operational_fallback:
                body["operational_fallback"] = facts.operational_fallback
            if facts.withdrawn is not None and facts.feature_status not in (
                FeatureStatus.PAUSED,
                FeatureStatus.RETIRED,
            ):
                body["code"] = error_codes.WITHDRAWN
                body["withdrawn"] = {
                    "version": facts.withdrawn["version"],
                    "at": facts.withdrawn["at"].isoformat(),
                    "reason": facts.withdrawn["reason"],
                }
        return body


# --- Reading ----------------------------------------------------------------------------------


def load_facts(
    *, feature_slug: str, region_code: str, environment: str = Environment.PRODUCTION, now: datetime
) -> Facts:
    """Everything one decision needs, in at most nine queries whatever the registry's size."""
    deployments = Deployment.objects.filter(
        feature__slug=feature_slug, region__code=region_code, environment=environment
    )
    found = load_facts_many(deployments, now=now)
    if not found:
        return facts_without_deployment(feature_slug, region_code, environment)
    return found[0]


def load_facts_many(deployments, *, now: datetime, warnings: bool = True) -> list[Facts]:
    """The facts of every deployment in a queryset, in eight queries however many there are (the
    catalog's "which live routes does this change?" and drills decide for many at once).

    ``warnings=False`` leaves out what only adds warnings to a decision (the freeze, the gate's evidence),
    in four queries: for callers that ask only which model serves (a suspension's route changes), the
    newest evaluations of thousands of versions being most of the cost."""
    return load_facts_and_evaluations(deployments, now=now, warnings=warnings)[0]


def load_facts_and_evaluations(
    deployments, *, now: datetime, warnings: bool = True, policies: dict[str, dict] | None = None
) -> tuple[list[Facts], dict[int, dict]]:
    """``load_facts_many``, and the newest evaluation of each kind of each deployed version it judged
    them by (version id -> kind -> Evaluation), for callers that show them (readiness).

    ``policies`` (gate -> requirements as ``approvals.services.requirements_snapshot`` makes them) judges
    the evidence by those requirements instead of the stored ones: a gate change's preview."""
    deployments = list(
        deployments.select_related(
            "feature",
            "region",
            "version",
            "version__model",
            "version__model__vendor",
            "version__prompt",
            "version__policy_pack",
        ).order_by("feature__name", "environment", "region__code")
    )
    return _facts_of(deployments, now=now, warnings=warnings, policies=policies)


def facts_if_live(
    version: FeatureVersion, *, environment: str, regions, now: datetime, warnings: bool = False
) -> list[Facts]:
    """The facts as they would be were ``version`` live in ``environment`` in each of ``regions`` (in that
    order), all else as it is: what a gate request, its review and its promotion ask resolve. Reads only;
    four queries. ``warnings`` as for ``load_facts_many`` (the freeze and the gate's evidence, which the
    gate's own checks show and enforce anyway)."""
    version = FeatureVersion.objects.select_related("feature", "model", "model__vendor", "prompt", "policy_pack").get(
        pk=version.pk
    )
    deployments = [
        Deployment(feature=version.feature, environment=environment, region=region, version=version, updated_at=now)
        for region in regions
    ]
    found = _facts_of(deployments, now=now, warnings=warnings)[0]
    for facts in found:
        facts.live_since = None
    return found


class RouteTable:
    """What says which model serves each of many deployments, as plain rows (``load_route_table``): the
    feature's status, the region, the policy pack's regions, and each model's hosting and suspension,
    primary then fallbacks. For judging thousands of routes at once (which of a vendor's routes its
    suspension changes), where ``load_facts_many`` building every deployment's related objects would be
    most of the cost.

    ``rows`` hold ``COLUMNS``, unordered. ``rule_key(row)`` is all of a row the rules read to choose its
    model: rows with the same key are served by the same model, so a caller judges each key once, with
    ``facts([row])``. ``facts(rows)`` are those rows' ``Facts`` (one more query, for the feature's and the
    version's details), without what no rule choosing a model reads (operational fallback, configuration
    hash, prompt, tools, parameters, retrieval index, live-since time, policy pack name, freeze, evidence)."""

    COLUMNS = (
        "pk",
        "feature__name",
        "environment",
        "region__code",
        "feature__status",
        "version_id",
        "version__policy_pack_id",
    )
    PK, NAME, ENVIRONMENT, REGION, STATUS, VERSION, POLICY = range(7)
    DETAILS = ("pk", "feature_id", "feature__slug", "feature__restricted", "feature__team_id", "feature__risk_tier")
    DETAILS += ("region_id", "version__number")

    def __init__(self, deployments, rows, chains, policy_regions, model_facts):
        self._deployments = deployments
        self.rows = rows
        self._chains = chains  # version id -> model ids: the primary, then the fallbacks in order
        self._policy_regions = policy_regions  # policy pack id -> region codes
        self._model_facts = model_facts  # (model id, position) -> ModelFacts

    def __len__(self) -> int:
        return len(self.rows)

    def rule_key(self, row) -> tuple:
        return (row[self.STATUS], row[self.REGION], row[self.POLICY], self._chains.get(row[self.VERSION], ()))

    def facts(self, rows) -> list[Facts]:
        """The ``Facts`` of ``rows`` (in their order): one query however many."""
        details = {}
        if rows:
            details = {
                detail[0]: detail
                for detail in self._deployments.filter(pk__in=[row[self.PK] for row in rows])
                .order_by()
                .values_list(*self.DETAILS)
            }
        return [self._facts(row, details[row[self.PK]]) for row in rows]

    def rule_facts(self, row) -> Facts:
        """The row's facts as far as the rules choosing a model read them, without a query: what
        ``serving_model`` judges (the feature's and version's details left empty)."""
        return self._facts(row, (row[self.PK], None, "", False, None, "", None, None))

    def _facts(self, row, detail) -> Facts:
        _pk, feature_id, slug, restricted, team_id, risk_tier, region_id, number = detail
        version_id = row[self.VERSION]
        return Facts(
            feature_id=feature_id,
            feature_slug=slug,
            feature_name=row[self.NAME],
            feature_status=row[self.STATUS],
            restricted=restricted,
            team_id=team_id,
            risk_tier=risk_tier,
            operational_fallback="",
            environment=row[self.ENVIRONMENT],
            region_id=region_id,
            region=row[self.REGION],
            version_id=version_id,
            version_number=number,
            policy_regions=self._policy_regions.get(row[self.POLICY], frozenset()),
            models=[
                self._model_facts[model_id, position]
                for position, model_id in enumerate(self._chains.get(version_id, ()))
            ],
            deployment_id=row[self.PK],
        )


def _model_facts(model, position: int, hosted: dict) -> ModelFacts:
    """A catalog model (its vendor selected) as a route's primary (position 0) or fallback."""
    return ModelFacts(
        id=model.pk,
        vendor=model.vendor.slug,
        vendor_name=model.vendor.name,
        identifier=model.identifier,
        display_name=model.display_name,
        context_window=model.context_window,
        status=model.status,
        vendor_status=model.vendor.status,
        regions=frozenset(hosted.get(model.pk, ())),
        position=position,
    )


def load_route_table(deployments) -> RouteTable:
    """A ``RouteTable`` of every deployment in a queryset, in at most five queries of plain rows however many."""
    # Each row says whether its version has fallbacks: only those versions' are read (no list of every id).
    with_fallbacks = Exists(VersionFallback.objects.filter(version_id=OuterRef("version_id")))
    rows = list(
        deployments.order_by()
        .annotate(has_fallbacks=with_fallbacks)
        .values_list(*RouteTable.COLUMNS, "version__model_id", "has_fallbacks")
    )
    chains: dict[int, list[int]] = {row[RouteTable.VERSION]: [row[-2]] for row in rows}
    hosted: dict[int, set[str]] = {}
    allowed: dict[int, set[str]] = {}
    catalog = {}
    if with_chains := {row[RouteTable.VERSION] for row in rows if row[-1]}:
        for version_id, model_id in (
            VersionFallback.objects.filter(version_id__in=with_chains)
            .order_by("version_id", "position")
            .values_list("version_id", "model_id")
        ):
            chains[version_id].append(model_id)
    if rows:
        model_ids = {model_id for chain in chains.values() for model_id in chain}
        for model_id, code in CatalogModel.regions.through.objects.filter(catalogmodel_id__in=model_ids).values_list(
            "catalogmodel_id", "region__code"
        ):
            hosted.setdefault(model_id, set()).add(code)
        for policy_id, code in PolicyPack.allowed_regions.through.objects.filter(
            policypack_id__in={row[RouteTable.POLICY] for row in rows}
        ).values_list("policypack_id", "region__code"):
            allowed.setdefault(policy_id, set()).add(code)
        catalog = {model.pk: model for model in CatalogModel.objects.filter(pk__in=model_ids).select_related("vendor")}
    positions = {(model_id, position) for chain in chains.values() for position, model_id in enumerate(chain)}
    model_facts = {
        (model_id, position): _model_facts(catalog[model_id], position, hosted) for model_id, position in positions
    }
    return RouteTable(
        deployments,
        [row[:-2] for row in rows],
        {version_id: tuple(chain) for version_id, chain in chains.items()},
        {policy_id: frozenset(codes) for policy_id, codes in allowed.items()},
        model_facts,
    )


def _facts_of(
    deployments: list[Deployment], *, now: datetime, warnings: bool, policies: dict[str, dict] | None = None
) -> tuple[list[Facts], dict[int, dict]]:
    if not deployments:
        return [], {}
    version_ids = {deployment.version_id for deployment in deployments}
    fallbacks: dict[int, list] = {}
    for link in (
        VersionFallback.objects.filter(version_id__in=version_ids)
        .select_related("model__vendor")
        .order_by("version_id", "position")
    ):
        fallbacks.setdefault(link.version_id, []).append(link.model)
    model_ids = {deployment.version.model_id for deployment in deployments} | {
        model.pk for models in fallbacks.values() for model in models
    }
    hosted: dict[int, set[str]] = {}
    for model_id, code in CatalogModel.regions.through.objects.filter(catalogmodel_id__in=model_ids).values_list(
        "catalogmodel_id", "region__code"
    ):
        hosted.setdefault(model_id, set()).add(code)
    allowed: dict[int, set[str]] = {}
    for policy_id, code in PolicyPack.allowed_regions.through.objects.filter(
        policypack_id__in={deployment.version.policy_pack_id for deployment in deployments}
    ).values_list("policypack_id", "region__code"):
        allowed.setdefault(policy_id, set()).add(code)
    freezes, gates, newest = {}, {}, {}
    if warnings:
        freezes = incident_freezes({deployment.feature_id for deployment in deployments})
        gates = _gates(policies)
        newest = latest_evaluations(version_ids)

    facts_list = []
    for deployment in deployments:
        feature, version = deployment.feature, deployment.version
        policy = version.policy_pack
        facts = _feature_facts(feature, deployment.region, deployment.environment)
        facts.deployment_id = deployment.pk
        facts.version_id, facts.version_number, facts.config_hash = version.pk, version.number, version.config_hash
        facts.live_since = deployment.updated_at
        facts.prompt = {
            "name": version.prompt.name,
            "version": version.prompt.version,
            "content_hash": version.prompt.content_hash,
        }
        facts.policy_pack = {"name": policy.name, "version": policy.version}
        facts.tools, facts.parameters = version.tools, version.parameters
        facts.retrieval_index = version.retrieval_index
        facts.policy_regions = frozenset(allowed.get(policy.pk, ()))
        facts.models = [
            _model_facts(model, position, hosted)
            for position, model in enumerate([version.model, *fallbacks.get(version.pk, [])])
        ]
        facts.freeze = freezes.get(feature.pk)
        requirements = gates.get((feature.risk_tier, deployment.environment))
        if requirements is not None:
            facts.gate = requirements["gate"]
            facts.evidence = _evidence(requirements, newest.get(version.pk, {}), now)
        facts_list.append(facts)
    return facts_list, newest


def _feature_facts(feature: AIFeature, region: Region, environment: str) -> Facts:
    return Facts(
        feature_id=feature.pk,
        feature_slug=feature.slug,
        feature_name=feature.name,
        feature_status=feature.status,
        restricted=feature.restricted,
        team_id=feature.team_id,
        risk_tier=feature.risk_tier,
        operational_fallback=feature.operational_fallback,
        environment=environment,
        region_id=region.pk,
        region=region.code,
    )


def facts_without_deployment(feature_slug: str, region_code: str, environment: str) -> Facts:
    """The facts where no version is live: the feature, and the withdrawal that took the pointer down, if
    the newest event of its history is one."""
    feature = AIFeature.objects.filter(slug=feature_slug).first()
    if feature is None:
        raise unknown_feature(feature_slug)
    # A NUL cannot be in a code, and some databases refuse to compare with one: unknown, not an error.
    region = None if "\x00" in region_code else Region.objects.filter(code=region_code).first()
    if region is None:
        raise UnknownTarget(
            f"No region has the code '{region_code}'.",
            feature_id=feature.pk,
            restricted=feature.restricted,
            slug=feature_slug,
        )
    facts = _feature_facts(feature, region, environment)
    last = (
        DeploymentEvent.objects.filter(feature=feature, environment=environment, region=region)
        .select_related("from_version")
        .order_by("-at", "-id")
        .first()
    )
    if last is not None and last.kind == DeploymentEventKind.WITHDRAWN:
        facts.withdrawn = {
            "version": last.from_version.number if last.from_version_id else None,
            "at": last.at,
            "reason": last.reason,
        }
    return facts


def _gates(proposed: dict[str, dict] | None = None) -> dict[tuple[str, str], dict]:
    """Each (risk tier, environment)'s gate requirements, in two queries; ``proposed`` replaces some."""
    policies = {
        policy.gate: requirements_snapshot(policy) for policy in GatePolicy.objects.prefetch_related("requirements")
    }
    policies.update(proposed or {})
    return {
        (tier, environment): policies[gate]
        for tier, environment, gate in GateAssignment.objects.values_list("risk_tier", "environment", "gate")
        if gate in policies
    }


def _evidence(requirements: dict, newest_by_kind: dict, now: datetime) -> list[dict]:
    max_age = {rule["kind"]: rule["max_age_days"] for rule in requirements["evidence"]}
    return [
        {
            "kind": check.key,
            "label": check.label,
            "state": check.state,
            "detail": check.detail,
            "stale_at": stale_from(check.evaluation.run_at, max_age[check.key]) if check.evaluation else None,
        }
        for check in evidence_checks(requirements, newest_by_kind, now=now)
    ]


# --- Deciding ---------------------------------------------------------------------------------


def _step(rule: str, outcome: str, detail: str, subject: str = "") -> dict:
    return {"rule": rule, "subject": subject, "outcome": outcome, "detail": detail}


def _hosted(model: ModelFacts, region: str, scenario: Scenario | None) -> tuple[bool, bool]:
    """(hosted there, the region lost in the drill): the hosting rule."""
    lost = scenario is not None and region in scenario.lost_regions
    return region in model.regions and not lost, lost


def _suspended(model: ModelFacts, scenario: Scenario | None) -> tuple[bool, bool]:
    """(its vendor suspended, the model suspended): the suspension rule."""
    vendor_suspended = model.vendor_status == VendorStatus.SUSPENDED or (
        scenario is not None and model.vendor in scenario.suspended_vendors
    )
    model_suspended = model.status == ModelStatus.SUSPENDED or (
        scenario is not None and model.id in scenario.suspended_models
    )
    return vendor_suspended, model_suspended


def model_eligible(model: ModelFacts, region: str, scenario: Scenario | None = None) -> bool:
    """Whether ``model`` may serve in ``region``: what ``decide`` judges of each model, without its words."""
    return _hosted(model, region, scenario)[0] and not any(_suspended(model, scenario))


def _model_steps(model: ModelFacts, region: str, scenario: Scenario | None) -> tuple[list[dict], bool]:
    subject = f"{model.label} ({model.role})"
    steps = []
    hosted, lost = _hosted(model, region, scenario)
    if hosted:
        steps.append(_step("hosting", PASS, f"{model.label} is hosted in {region}.", subject))
    elif lost:
        steps.append(_step("hosting", FAIL, f"{region} is unavailable (drill).", subject))
    else:
        where = ", ".join(sorted(model.regions)) or "no region"
        steps.append(_step("hosting", FAIL, f"{model.label} is not hosted in {region} (hosted in {where}).", subject))
    vendor_suspended, model_suspended = _suspended(model, scenario)
    if vendor_suspended:
        steps.append(_step("suspension", FAIL, f"The vendor {model.vendor_name} is suspended.", subject))
    elif model_suspended:
        steps.append(_step("suspension", FAIL, f"{model.label} is suspended in the catalog.", subject))
    elif model.status == ModelStatus.DEPRECATED:
        steps.append(_step("suspension", WARN, f"{model.label} is deprecated: plan its replacement.", subject))
    else:
        steps.append(_step("suspension", PASS, f"Neither {model.label} nor {model.vendor_name} is suspended.", subject))
    return steps, all(step["outcome"] != FAIL for step in steps)


def serving_model(
    facts: Facts, *, models: list[ModelFacts] | None = None, scenario: Scenario | None = None
) -> ModelFacts | None:
    """The model ``decide`` says serves (None: a refusal), without building the explanation: the same rules
    in the same order, for callers that ask only which model serves thousands of routes (a catalog change's
    routes). ``models`` replaces ``facts.models`` (the same models with another status: a what-if)."""
    if facts.feature_status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED) or facts.version_id is None:
        return None
    if facts.region not in facts.policy_regions:
        return None
    candidates = facts.models if models is None else models
    return next((model for model in candidates if model_eligible(model, facts.region, scenario)), None)


def decide(facts: Facts, *, scenario: Scenario | None = None) -> Decision:
    """Apply the rules to the facts. Pure: the same facts give the same decision."""
    where = f"{facts.feature_slug} in {facts.region} ({facts.environment})"
    steps: list[dict] = []

    def refuse(reason: str) -> Decision:
        return Decision(facts, None, [], steps, f"No eligible route for {where}: {reason}")

    if facts.feature_status in (FeatureStatus.PAUSED, FeatureStatus.RETIRED):
        steps.append(_step("feature", FAIL, f"The feature is {facts.feature_status}: the AI path is off."))
        return refuse(f"the feature is {facts.feature_status}.")
    if facts.version_id is None and facts.withdrawn is not None:
        withdrawn = facts.withdrawn
        steps.append(
            _step(
                "deployment",
                FAIL,
                f"v{withdrawn['version']} was withdrawn from {where} on "
                f"{withdrawn['at']:%d %b %Y %H:%M} UTC: {withdrawn['reason']}",
            )
        )
        return refuse(
            f"it was withdrawn there ({withdrawn['reason'].rstrip('.')}); nothing serves until a version is "
            "promoted again."
        )
    if facts.version_id is None:
        steps.append(_step("deployment", FAIL, f"No version is live for {where}."))
        return refuse("no version is live there.")
    steps.append(_step("deployment", PASS, f"v{facts.version_number} is live for {where}."))

    if facts.region in facts.policy_regions:
        steps.append(
            _step(
                "residency",
                PASS,
                f"Policy {facts.policy_pack['name']}@{facts.policy_pack['version']} "
                f"allows processing in {facts.region}.",
            )
        )
    else:
        allowed = ", ".join(sorted(facts.policy_regions)) or "no region"
        steps.append(
            _step(
                "residency",
                FAIL,
                f"Policy {facts.policy_pack['name']}@{facts.policy_pack['version']} "
                f"does not allow {facts.region} (allows {allowed}).",
            )
        )
        return refuse(f"its policy pack does not allow data to be processed in {facts.region}.")

    eligible = []
    for model in facts.models:
        model_steps, ok = _model_steps(model, facts.region, scenario)
        steps.extend(model_steps)
        if ok:
            eligible.append(model)
    if not eligible:
        return refuse("neither the primary model nor any fallback is eligible there.")
    served = eligible[0]
    if served.position == 0:
        steps.append(_step("route", PASS, f"The primary model {served.label} serves."))
    else:
        steps.append(_step("route", WARN, f"The primary model is not eligible: {served.role} {served.label} serves."))

    if facts.freeze:
        steps.append(_step("freeze", WARN, f"Promotions are frozen: {facts.freeze} The live version keeps serving."))
    else:
        steps.append(_step("freeze", PASS, "No open SEV1 or SEV2 incident."))

    evidence = facts.evidence if scenario is None else scenario.aged(facts.evidence)
    for item in evidence:
        if item["state"] == "ok":
            steps.append(_step("evidence", PASS, item["detail"], item["label"]))
        else:
            steps.append(
                _step(
                    "evidence",
                    WARN,
                    f"{item['label']} evidence is {item['state'].replace('_', ' ')} under "
                    f"the {facts.gate} gate: {item['detail']} Promotions are blocked "
                    f"until fresh evidence is recorded.",
                    item["label"],
                )
            )
    if not facts.evidence:
        steps.append(
            _step(
                "evidence",
                PASS,
                "The gate asks for no evidence."
                if facts.gate
                else "No gate is assigned for this tier and environment.",
            )
        )
    return Decision(facts, served, eligible[1:], steps)
