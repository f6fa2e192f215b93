"""The pages of the apps below compliance that a Statement of Applicability may link to as evidence
(``compliance.extensions.evidence_pages``). Each finds its record through the selector that says what the
user may see, so a restricted record is refused exactly like a missing one."""

from __future__ import annotations

from approvals import selectors as approvals_selectors
from approvals.models import GatePolicy
from compliance.choices import DocumentKind
from compliance.extensions import Evidence, register_evidence_page
from compliance.models import DocumentRevision
from freshness import selectors as freshness_selectors
from incidents import selectors as incidents_selectors
from registry import selectors


def _feature(user, kwargs):
    feature = selectors.features_visible_to(user).filter(slug=kwargs.get("slug")).first()
    return feature and Evidence("aifeature", str(feature.pk), f"Feature: {feature.name}", feature)


def _version(user, kwargs):
    version = (
        selectors.versions_visible_to(user)
        .filter(feature__slug=kwargs.get("slug"), number=kwargs.get("number"))
        .select_related("feature")
        .first()
    )
    return version and Evidence(
        "featureversion", str(version.pk), f"Version {version.number} of {version.feature.name}", version.feature
    )


def _request(user, kwargs):
    found = (
        approvals_selectors.requests_visible_to(user)
        .filter(pk=kwargs.get("pk"))
        .select_related("version__feature")
        .first()
    )
    if found is None:
        return None
    feature = found.version.feature
    label = f"Gate request #{found.pk}: version {found.version.number} of {feature.name} to {found.environment}"
    return Evidence("approvalrequest", str(found.pk), label, feature)


def _gate_policy(user, kwargs):
    policy = GatePolicy.objects.filter(gate=kwargs.get("gate")).first()
    return policy and Evidence("gatepolicy", str(policy.pk), f"Gate policy: {policy}")


def _incident(user, kwargs):
    found = incidents_selectors.incidents_visible_to(user).filter(pk=kwargs.get("pk")).select_related("feature").first()
    return found and Evidence("incident", str(found.pk), f"Incident {found}"[:300], found.feature)


def _plan(user, kwargs):
    feature = selectors.features_visible_to(user).filter(slug=kwargs.get("slug")).first()
    plan = feature and freshness_selectors.plan_of(feature)
    return plan and Evidence("monitoringplan", str(plan.pk), f"Monitoring plan of {feature.name}", feature)


def _revision(user, kwargs):
    revision = (
        DocumentRevision.objects.filter(
            document__feature__in=selectors.features_visible_to(user),
            document__feature__slug=kwargs.get("slug"),
            document__kind=kwargs.get("kind"),
            number=kwargs.get("number"),
        )
        .select_related("document__feature")
        .first()
    )
    if revision is None:
        return None
    feature = revision.document.feature
    kind = DocumentKind(revision.document.kind).label
    return Evidence(
        "documentrevision", str(revision.pk), f"{kind}, revision {revision.number}, of {feature.name}", feature
    )


def register() -> None:
    pages = {
        "registry:feature_detail": _feature,
        "registry:version_detail": _version,
        "approvals:request_detail": _request,
        "approvals:policy_edit": _gate_policy,
        "incidents:incident_detail": _incident,
        "freshness:plan_detail": _plan,
        "compliance:revision": _revision,
    }
    for url_name, resolver in pages.items():
        register_evidence_page(url_name, resolver)
