"""The approvals suite's release helpers (a high-risk feature, pins, evidence, gates), plus a feature made
regulated and confirmed high-risk with every part of its technical file in place but what a test removes."""

import pytest

from compliance.choices import DocumentKind
from compliance.services.documents import document_review, document_save_draft, document_submit
from compliance.services.profile import profile_propose
from freshness.plans import plan_save
from tests.approvals.conftest import *  # noqa: F403 - the fixtures
from tests.approvals.conftest import REGULATED_EVIDENCE


@pytest.fixture
def high_risk(feature, product_owner, governance_admin, eu):
    """``feature`` proposed high-risk (Annex III, employment) by its owner and confirmed by governance."""
    profile_propose(
        actor=product_owner,
        feature=feature,
        markets=[eu],
        category="high_risk",
        high_risk_basis="annex_iii",
        annex_iii_area="4",
        rationale="Ranks job applicants for recruiters.",
        conformity_reference="DoC-2026-017",
    )
    from compliance.services.profile import profile_confirm

    profile = profile_confirm(actor=governance_admin, feature=feature, reason="Employment decisions.")
    feature.refresh_from_db()  # now on the regulated tier
    return profile


@pytest.fixture
def approve_document(product_owner, legal_reviewer):
    def approve(feature, kind, body="Written and reviewed."):
        revision = document_save_draft(actor=product_owner, feature=feature, kind=kind, body=body)
        document_submit(actor=product_owner, revision=revision)
        return document_review(actor=legal_reviewer, revision=revision, approve=True)

    return approve


@pytest.fixture
def monitoring_plan(feature, product_owner):
    """The feature's post-market monitoring plan, kept by the freshness app (its sweep enforces it)."""
    return plan_save(
        actor=product_owner,
        feature=feature,
        reason="Post-market monitoring (Art. 72).",
        monitors=["https://grafana.example.test/d/claims-triage"],
        reviewer_role="legal",
        review_interval_days=30,
        evaluations={"benchmark": 30},
    )


@pytest.fixture
def complete_file(high_risk, approve_document, monitoring_plan, feature):
    """Everything the file needs but the version-level evidence (datasets aside: see ``with_dataset``)."""
    from registry.models import AIFeature

    AIFeature.objects.filter(pk=feature.pk).update(
        operational_fallback="Route to a human recruiter.", stop_expansion_criteria="Bias metric above 0.1."
    )
    feature.refresh_from_db()
    for kind in (
        DocumentKind.RISK_MANAGEMENT,
        DocumentKind.HUMAN_OVERSIGHT,
        DocumentKind.STANDARDS,
        DocumentKind.DECLARATION,
    ):
        approve_document(feature, kind)
    return high_risk


EVIDENCE = REGULATED_EVIDENCE
