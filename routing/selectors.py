"""What a decision token says, read back against the record: what served, approved on what evidence."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from approvals.models import ApprovalRequest, SignOff
from incidents.models import Incident
from registry.models import AIFeature, CatalogModel, DeploymentEvent, Evaluation, FeatureVersion, Region, Vendor
from registry.selectors import features_visible_to, live_at
from routing.models import DecisionRecord
from routing.tokens import DecisionClaim


@dataclass
class DecisionView:
    claim: DecisionClaim
    feature: AIFeature
    region: Region
    version: FeatureVersion | None
    model: CatalogModel | None
    live_event: DeploymentEvent | None
    matches_history: bool
    approvals: list[ApprovalRequest] = field(default_factory=list)
    evidence: list[Evaluation] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    still_live: bool = False

    @property
    def at(self) -> datetime:
        return self.claim.at


def decision_view(claim: DecisionClaim, *, user) -> DecisionView | None:
    """The decision as the record shows it, or None if the feature is unknown or hidden from ``user``."""
    feature = (
        features_visible_to(user)
        .select_related("team", "accountable_owner", "incident_owner")
        .filter(pk=claim.feature_id)
        .first()
    )
    region = Region.objects.filter(pk=claim.region_id).first()
    if feature is None or region is None:
        return None
    version = None
    if claim.version_id is not None:
        version = (
            FeatureVersion.objects.select_related("model__vendor", "prompt", "policy_pack", "author")
            .prefetch_related("fallbacks__model__vendor")
            .filter(pk=claim.version_id, feature=feature)
            .first()
        )
    model = CatalogModel.objects.select_related("vendor").filter(pk=claim.model_id).first() if claim.model_id else None
    event = live_at(feature=feature, environment=claim.environment, region=region, at=claim.at)
    view = DecisionView(
        claim=claim,
        feature=feature,
        region=region,
        version=version,
        model=model,
        live_event=event,
        matches_history=(event.to_version_id if event else None) == claim.version_id,
    )
    if version is not None:
        view.approvals = list(
            ApprovalRequest.objects.filter(version=version, created_at__lte=claim.at)
            .select_related("requester")
            .prefetch_related(
                Prefetch("signoffs", queryset=SignOff.objects.select_related("signer").order_by("role", "slot"))
            )
            .order_by("-created_at")
        )
        newest: dict[str, Evaluation] = {}
        for evaluation in (
            Evaluation.objects.filter(version=version, run_at__lte=claim.at, recorded_at__lte=claim.at)
            .select_related("recorded_by")
            .order_by("kind", "-run_at", "-id")
        ):
            newest.setdefault(evaluation.kind, evaluation)
        view.evidence = sorted(newest.values(), key=lambda evaluation: evaluation.kind)
        view.still_live = feature.deployments.filter(
            environment=claim.environment, region=region, version=version
        ).exists()
    view.incidents = list(
        Incident.objects.filter(feature=feature, impact_start__lte=claim.at)
        .filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=claim.at))
        .select_related("owner", "live_version")
        .order_by("-impact_start")
    )
    return view


def ledger_records(*, user, request_id: str):
    """Ledger entries for a caller's request id, on features ``user`` may see."""
    return (
        DecisionRecord.objects.filter(request_id=request_id.strip(), feature__in=features_visible_to(user))
        .select_related("feature", "region", "version")
        .order_by("-decided_at")
    )


def decisions_in_window(*, feature: AIFeature, start: datetime, end: datetime, limit: int = 100) -> dict:
    """The decisions the ledger recorded for ``feature`` decided in ``[start, end]``: how many, by
    environment, region, version and whether one served, and the newest ``limit`` of them. Callers have
    found the feature among those the user may see."""
    window = DecisionRecord.objects.filter(feature=feature, decided_at__gte=start, decided_at__lte=end)
    groups = list(
        window.values("environment", "region__code", "version__number", "served")
        .annotate(total=Count("pk"))
        .order_by("environment", "region__code", "version__number", "served")
    )
    records = list(window.select_related("region", "version").order_by("-decided_at", "-id")[:limit])
    return {"total": sum(group["total"] for group in groups), "groups": groups, "records": records}


def catalog_entries(kind: str) -> QuerySet:
    """The vendors (``kind`` "vendor") or the models (with their vendor) whose routes can be suspended:
    the catalog is open to everyone signed in."""
    if kind == "vendor":
        return Vendor.objects.all()
    return CatalogModel.objects.select_related("vendor")
