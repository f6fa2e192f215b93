"""The technical file of a feature (EU AI Act Art. 11 and Annex IV), filled from the registry.

``technical_file(feature, version)`` returns one dict, the same for the page, the API and the exports
(JSON, HTML, PDF through the packs app): the nine Annex IV sections, each with what the registry holds,
the checks that make it complete and a completeness score. What the registry does not hold comes from the
feature's compliance documents (their approved revision only). Section headings and check wording are
Gatehouse's own.

``completeness(feature)`` is the short form (scores per section, the gaps) for the feature page,
readiness and the gate. The file is about one version: the one asked for, else the version live in
production (the newest such pointer), else the newest version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from approvals.models import ApprovalRequest, SignOff
from compliance.choices import Category, DocumentKind, RevisionStatus
from compliance.models import ComplianceDocument, RegulatoryProfile
from compliance.selectors import documents_of, profile_of
from freshness.models import MonitoringPlan
from incidents.models import Incident
from registry.choices import DatasetUsage, Environment, EvaluationKind
from registry.choices import Role as PersonRole
from registry.models import AIFeature, DeploymentEvent, Evaluation, FeatureVersion, VersionDataset

SCHEMA = "gatehouse.technical-file/1"


def monitoring_plan(feature: AIFeature) -> dict | None:
    """The feature's post-market monitoring plan (freshness keeps it and its sweep enforces it), as the file
    shows it; None when it has none."""
    plan = (
        MonitoringPlan.objects.filter(feature=feature)
        .select_related("reviewer")
        .prefetch_related("evaluations")
        .first()
    )
    if plan is None:
        return None
    return {
        "monitors": list(plan.monitors),
        "evaluations": [
            {"kind": EvaluationKind(rule.kind).label, "interval_days": rule.interval_days}
            for rule in plan.evaluations.all()
        ],
        "reviewer": _user(plan.reviewer) if plan.reviewer_id else str(PersonRole(plan.reviewer_role).label),
        "review_interval_days": plan.review_interval_days,
        "last_review": _when(plan.last_reviewed_at),
        "notes": plan.notes,
    }


@dataclass
class Check:
    label: str
    ok: bool
    detail: str = ""  # what is missing, shown when the check fails
    note: str = ""  # what is in place, shown when it passes

    def as_dict(self) -> dict:
        return {"label": self.label, "ok": self.ok, "detail": self.note if self.ok else self.detail}


@dataclass
class Section:
    number: int
    key: str
    title: str
    annex: str
    checks: list[Check] = field(default_factory=list)
    content: dict = field(default_factory=dict)

    @property
    def score(self) -> int:
        if not self.checks:
            return 100
        return round(100 * sum(check.ok for check in self.checks) / len(self.checks))

    @property
    def complete(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def gaps(self) -> list[str]:
        return [check.detail or check.label for check in self.checks if not check.ok]

    def as_dict(self) -> dict:
        return {
            "number": self.number,
            "key": self.key,
            "title": self.title,
            "annex": self.annex,
            "score": self.score,
            "complete": self.complete,
            "checks": [check.as_dict() for check in self.checks],
            "gaps": self.gaps,
            "content": self.content,
        }


def _when(value) -> str | None:
    return value.isoformat() if value else None


def _user(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


def file_version(feature: AIFeature) -> FeatureVersion | None:
    """The version a feature's file speaks of by default: live in production, else the newest."""
    live = (
        feature.deployments.filter(environment=Environment.PRODUCTION)
        .order_by("-updated_at", "-id")
        .values_list("version_id", flat=True)
        .first()
    )
    versions = FeatureVersion.objects.filter(feature=feature)
    return versions.filter(pk=live).first() if live else versions.order_by("-number").first()


def _document_part(document: ComplianceDocument | None) -> dict | None:
    if document is None or document.current is None:
        return None
    current = document.current
    return {
        "kind": document.kind,
        "title": document.get_kind_display(),
        "revision": current.number,
        "body": current.body,
        "author": _user(current.author),
        "approved_by": _user(current.reviewed_by),
        "approved_at": _when(current.reviewed_at),
        "sha256": current.sha256,
    }


def _document_check(documents: dict, kind: str, required: bool) -> Check:
    label = f"{DocumentKind(kind).label}: an approved revision"
    document = documents.get(kind)
    if document is not None and document.current is not None:
        return Check(label, True, note=f"Revision {document.current.number}, approved.")
    if not required:
        return Check(label, True, note="Not required for this category.")
    pending = document is not None and document.revisions.filter(status=RevisionStatus.IN_REVIEW).exists()
    return Check(
        label,
        False,
        f"{DocumentKind(kind).label}: {'in review, not yet approved' if pending else 'no approved revision'}.",
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def build_sections(
    feature: AIFeature, version: FeatureVersion | None, profile: RegulatoryProfile | None
) -> list[Section]:
    """The nine sections, filled and checked. A fixed number of queries whatever the history's size."""
    high_risk = bool(profile and profile.is_high_risk)
    required = set(profile.required_documents) if profile else set()
    documents = documents_of(feature)
    evaluations: list[Evaluation] = []
    datasets: list[VersionDataset] = []
    requests: list[ApprovalRequest] = []
    if version is not None:
        evaluations = list(version.evaluations.select_related("region").order_by("kind", "-run_at", "-id"))
        datasets = list(version.dataset_links.select_related("dataset").order_by("usage", "dataset__name"))
        requests = list(
            version.approval_requests.prefetch_related(
                Prefetch("signoffs", queryset=SignOff.objects.select_related("signer").order_by("role", "slot"))
            ).order_by("-created_at")
        )
    versions = list(
        FeatureVersion.objects.filter(feature=feature).select_related("model__vendor", "author").order_by("number")
    )
    deployment_events = list(
        DeploymentEvent.objects.filter(feature=feature)
        .select_related("region", "to_version", "from_version", "actor")
        .order_by("at", "id")
    )
    incidents = list(Incident.objects.filter(feature=feature).order_by("-impact_start"))
    plan = monitoring_plan(feature)

    newest: dict[str, Evaluation] = {}
    for evaluation in evaluations:
        newest.setdefault(evaluation.kind, evaluation)

    sections: list[Section] = []

    # 1. General description
    markets = [region.code for region in profile.markets.all()] if profile else []
    sections.append(
        Section(
            1,
            "general",
            "General description and intended purpose",
            "Annex IV(1)",
            [
                Check(
                    "The regulatory profile is confirmed by governance",
                    bool(profile and profile.confirmed),
                    "The regulatory profile is not confirmed by governance."
                    if not (profile and profile.confirmed)
                    else "",
                ),
                Check("The intended purpose is written", bool(feature.purpose.strip()), "No intended purpose."),
                Check("Intended uses are listed", bool(feature.intended_uses.strip()), "No intended uses listed."),
                Check(
                    "Uses it must not be put to are listed",
                    bool(feature.disallowed_uses.strip()),
                    "No disallowed uses listed.",
                ),
                Check("The markets it serves are named", bool(markets), "No markets named in the profile."),
                Check("A version exists to describe", version is not None, "The feature has no version yet."),
            ],
            {
                "name": feature.name,
                "slug": feature.slug,
                "purpose": feature.purpose,
                "intended_uses": _lines(feature.intended_uses),
                "disallowed_uses": _lines(feature.disallowed_uses),
                "team": feature.team.name,
                "accountable_owner": _user(feature.accountable_owner),
                "markets": markets,
                "category": profile.get_category_display() if profile else Category.UNDETERMINED.label,
                "role": profile.get_role_display() if profile else None,
                "data_classification": feature.get_data_classification_display(),
            },
        )
    )

    # 2. Development: components, models, data, human oversight, validation
    training = [link for link in datasets if link.usage != DatasetUsage.RETRIEVAL]
    passing = [evaluation for evaluation in newest.values() if evaluation.passed]
    oversight = _document_check(
        documents, DocumentKind.HUMAN_OVERSIGHT, high_risk or DocumentKind.HUMAN_OVERSIGHT in required
    )
    sections.append(
        Section(
            2,
            "development",
            "How it was built: components, models, data, human oversight, validation",
            "Annex IV(2)",
            [
                Check("The version's model, prompt and policy pack are pinned", version is not None, "No version."),
                Check(
                    "The data used to build or evaluate it is declared",
                    bool(training),
                    "No training or evaluation dataset is declared on the version.",
                ),
                oversight,
                Check(
                    "It was validated: each kind of evaluation's newest result passes",
                    bool(newest) and len(passing) == len(newest),
                    "No evaluation recorded."
                    if not newest
                    else f"Failing: {', '.join(sorted(kind for kind, item in newest.items() if not item.passed))}.",
                ),
            ],
            {
                "version": version.number if version else None,
                "config_hash": version.config_hash if version else None,
                "model": str(version.model) if version else None,
                "vendor": str(version.model.vendor) if version else None,
                "fallbacks": [str(model) for model in version.fallback_models.all()] if version else [],
                "prompt": str(version.prompt) if version else None,
                "policy_pack": str(version.policy_pack) if version else None,
                "retrieval_index": version.retrieval_index if version else "",
                "tools": version.tools if version else [],
                "parameters": version.parameters if version else {},
                "datasets": [{"name": link.dataset.name, "usage": link.get_usage_display()} for link in datasets],
                "human_oversight": _document_part(documents.get(DocumentKind.HUMAN_OVERSIGHT)),
                "validation": [_evaluation(evaluation) for evaluation in newest.values()],
            },
        )
    )

    # 3. Monitoring, functioning and control
    sections.append(
        Section(
            3,
            "control",
            "Monitoring, functioning and control",
            "Annex IV(3)",
            [
                Check("Monitors are linked", bool(feature.monitor_links), "No monitor is linked."),
                Check("Service-level objectives are set", bool(feature.slo_lines), "No SLOs."),
                Check(
                    "The operational fallback is written",
                    bool(feature.operational_fallback.strip()),
                    "No operational fallback.",
                ),
                Check("The rollback path is written", bool(feature.rollback_path.strip()), "No rollback path."),
                Check(
                    "An active incident owner is named",
                    bool(feature.incident_owner_id and feature.incident_owner.is_active),
                    "No active incident owner.",
                ),
            ],
            {
                "monitors": feature.monitor_links,
                "slos": feature.slo_lines,
                "operational_fallback": feature.operational_fallback,
                "rollback_path": feature.rollback_path,
                "incident_owner": _user(feature.incident_owner),
                "escalation_path": feature.escalation_path,
            },
        )
    )

    # 4. Why the metrics fit
    sections.append(
        Section(
            4,
            "metrics",
            "Why the performance metrics fit",
            "Annex IV(4)",
            [
                Check(
                    "Each metric carries its threshold and direction",
                    bool(newest),
                    "No evaluation recorded, so no metric to explain.",
                ),
            ],
            {
                "metrics": [
                    {
                        "kind": evaluation.get_kind_display(),
                        "metric": evaluation.metric,
                        "threshold": evaluation.threshold,
                        "direction": "higher is better" if evaluation.higher_is_better else "lower is better",
                        "score": evaluation.score,
                    }
                    for evaluation in newest.values()
                ],
                "gate_requests": [_request(request) for request in requests],
            },
        )
    )

    # 5. Risk management
    sections.append(
        Section(
            5,
            "risk",
            "The risk-management system",
            "Annex IV(5)",
            [
                _document_check(documents, DocumentKind.RISK_MANAGEMENT, DocumentKind.RISK_MANAGEMENT in required),
                Check(
                    "Criteria to stop expanding are written",
                    bool(feature.stop_expansion_criteria.strip()),
                    "No stop-expansion criteria.",
                ),
            ],
            {
                "summary": _document_part(documents.get(DocumentKind.RISK_MANAGEMENT)),
                "stop_expansion_criteria": feature.stop_expansion_criteria,
                "incidents": [
                    {
                        "reference": incident.reference,
                        "severity": incident.get_severity_display(),
                        "status": incident.get_status_display(),
                        "title": incident.title,
                        "began": _when(incident.impact_start),
                        "serious": bool(incident.serious_criteria),
                    }
                    for incident in incidents
                ],
            },
        )
    )

    # 6. Lifecycle changes
    sections.append(
        Section(
            6,
            "lifecycle",
            "Changes through its lifecycle",
            "Annex IV(6)",
            [
                Check("The version history is recorded", bool(versions), "No version."),
                Check(
                    "Every version says what changed and why",
                    bool(versions) and all(item.change_summary.strip() for item in versions),
                    "A version has no change summary.",
                ),
            ],
            {
                "versions": [
                    {
                        "number": item.number,
                        "status": item.get_status_display(),
                        "created_at": _when(item.created_at),
                        "author": _user(item.author),
                        "model": str(item.model),
                        "change_summary": item.change_summary,
                        "config_hash": item.config_hash,
                    }
                    for item in versions
                ],
                "deployments": [
                    {
                        "at": _when(event.at),
                        "kind": event.get_kind_display(),
                        "environment": event.environment,
                        "region": event.region.code,
                        "from_version": event.from_version.number if event.from_version_id else None,
                        "to_version": event.to_version.number if event.to_version_id else None,
                        "by": _user(event.actor),
                    }
                    for event in deployment_events
                ],
            },
        )
    )

    # 7. Standards applied
    sections.append(
        Section(
            7,
            "standards",
            "Standards and specifications applied",
            "Annex IV(7)",
            [_document_check(documents, DocumentKind.STANDARDS, DocumentKind.STANDARDS in required)],
            {"standards": _document_part(documents.get(DocumentKind.STANDARDS))},
        )
    )

    # 8. Declaration of conformity
    declaration_checks = [_document_check(documents, DocumentKind.DECLARATION, DocumentKind.DECLARATION in required)]
    if DocumentKind.DECLARATION in required:
        declaration_checks.append(
            Check(
                "The declaration's reference is recorded",
                bool(profile and profile.conformity_reference),
                "No declaration of conformity reference in the profile.",
            )
        )
    sections.append(
        Section(
            8,
            "declaration",
            "EU declaration of conformity",
            "Annex IV(8)",
            declaration_checks,
            {
                "reference": profile.conformity_reference if profile else "",
                "declaration": _document_part(documents.get(DocumentKind.DECLARATION)),
            },
        )
    )

    # 9. Post-market monitoring plan
    sections.append(
        Section(
            9,
            "post_market",
            "The post-market monitoring plan",
            "Annex IV(9)",
            [
                Check(
                    "A monitoring plan says what is watched, how often and who reviews it",
                    bool(plan and plan.get("evaluations") and plan.get("reviewer"))
                    or bool(documents.get(DocumentKind.POST_MARKET) and documents[DocumentKind.POST_MARKET].current),
                    "No post-market monitoring plan (an approved plan document, or a plan with evaluations and a "
                    "reviewer).",
                ),
            ],
            {"plan": plan, "document": _document_part(documents.get(DocumentKind.POST_MARKET))},
        )
    )
    return sections


def _evaluation(evaluation: Evaluation) -> dict:
    return {
        "kind": evaluation.get_kind_display(),
        "suite": evaluation.suite,
        "metric": evaluation.metric,
        "score": evaluation.score,
        "threshold": evaluation.threshold,
        "passed": evaluation.passed,
        "region": evaluation.region.code if evaluation.region_id else None,
        "run_at": _when(evaluation.run_at),
        "artifact_url": evaluation.artifact_url,
    }


def _request(request: ApprovalRequest) -> dict:
    return {
        "gate": request.get_gate_display(),
        "environment": request.environment,
        "status": request.get_status_display(),
        "created_at": _when(request.created_at),
        "decided_at": _when(request.decided_at),
        "signoffs": [
            {
                "role": signoff.get_role_display(),
                "status": signoff.get_status_display(),
                "signer": _user(signoff.signer),
                "decided_at": _when(signoff.decided_at),
            }
            for signoff in request.signoffs.all()
        ],
    }


@dataclass
class Completeness:
    applies: bool  # the feature's confirmed category requires a complete file before production
    score: int
    complete: bool
    sections: list[dict]
    version: int | None

    @property
    def gaps(self) -> list[str]:
        return [f"{section['number']}. {gap}" for section in self.sections for gap in section["gaps"]]


def _overall(sections: list[Section]) -> tuple[int, bool]:
    """The file's score (the mean of its sections') and whether every section is complete."""
    return round(sum(section.score for section in sections) / len(sections)), all(s.complete for s in sections)


_UNREAD = object()


def completeness(
    feature: AIFeature, version: FeatureVersion | None = None, *, profile: RegulatoryProfile | None = _UNREAD
) -> Completeness:
    """``profile``: the feature's profile when the caller has read it already (None: it has none)."""
    if profile is _UNREAD:
        profile = profile_of(feature)
    chosen = version or file_version(feature)
    sections = build_sections(feature, chosen, profile)
    score, complete = _overall(sections)
    return Completeness(
        applies=bool(profile and profile.is_high_risk),
        score=score,
        complete=complete,
        sections=[
            {"number": s.number, "key": s.key, "title": s.title, "score": s.score, "gaps": s.gaps} for s in sections
        ],
        version=chosen.number if chosen else None,
    )


def technical_file(feature: AIFeature, version: FeatureVersion | None = None) -> dict:
    """The whole file as one JSON-ready dict (the exports add the audit chain's verification)."""
    feature = AIFeature.objects.select_related("team", "accountable_owner", "incident_owner").get(pk=feature.pk)
    profile = profile_of(feature)
    if profile is not None:
        prefetch_related_objects([profile], "markets")  # read by the first section and the profile part
    chosen = version or file_version(feature)
    sections = build_sections(feature, chosen, profile)
    score, complete = _overall(sections)
    return {
        "schema": SCHEMA,
        "generated_at": _when(timezone.now()),
        "feature": {"slug": feature.slug, "name": feature.name, "team": feature.team.name},
        "version": chosen.number if chosen else None,
        "profile": _profile_part(profile),
        "completeness": {
            "score": score,
            "complete": complete,
            "required_before_production": bool(profile and profile.is_high_risk),
        },
        "sections": [section.as_dict() for section in sections],
        "retention_years": profile.retention_years if profile else None,
    }


def _profile_part(profile: RegulatoryProfile | None) -> dict | None:
    if profile is None:
        return None
    return {
        "category": profile.category,
        "category_label": profile.get_category_display(),
        "in_force": profile.in_force,
        "status": profile.status,
        "high_risk_basis": profile.get_high_risk_basis_display() if profile.high_risk_basis else "",
        "annex_iii_area": profile.get_annex_iii_area_display() if profile.annex_iii_area else "",
        "annex_i_product": profile.annex_i_product,
        "transparency_duties": profile.transparency_duties,
        "role": profile.get_role_display(),
        "markets": [region.code for region in profile.markets.all()],
        "rationale": profile.rationale,
        "conformity_reference": profile.conformity_reference,
        "proposed_by": _user(profile.proposed_by),
        "proposed_at": _when(profile.proposed_at),
        "confirmed_by": _user(profile.confirmed_by),
        "confirmed_at": _when(profile.confirmed_at),
    }
