"""A regulated feature with a real history, made through the services as the app makes it: two versions
(v2's parent is v1) with evaluations, a sandbox gate approved and promoted, a regulated production request
that security rejected with a reason, an incident; and a restricted feature of another team. Pack files go
to a temporary MEDIA_ROOT."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from incidents.services import incident_open
from registry.services import evaluation_record, version_create, version_submit
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory, UserFactory

SANDBOX_REASON = "Safety suite clean; data boundary documented in the DPIA."
REJECT_REASON = "Red-team evidence is missing for the regulated gate."


@pytest.fixture(autouse=True)
def pack_media(settings, tmp_path):
    """Every test stores its pack files in a folder of its own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def sandbox_approver(db):
    return UserFactory(username="rae-ml", first_name="Rae", last_name="Reviewer", roles=["ml"])


@pytest.fixture
def regulated(team, eu, product_owner, ml_engineer, security_reviewer, sandbox_approver):
    return regulated_history(
        team=team,
        eu=eu,
        product_owner=product_owner,
        ml_engineer=ml_engineer,
        security_reviewer=security_reviewer,
        sandbox_approver=sandbox_approver,
    )


def regulated_history(*, team, eu, product_owner, ml_engineer, security_reviewer, sandbox_approver) -> dict:
    """KYC document check (Claims team, regulated): v1 approved for sandbox and live there; v2 (from v1)
    asked for the regulated production gate and rejected by security. Also used by the browser journey."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    feature = FeatureFactory(
        slug="kyc-document-check",
        name="KYC document check",
        team=team,
        risk_tier="regulated",
        regions=[eu],
        accountable_owner=product_owner,
        incident_owner=product_owner,
        rollback_path="Roll back in Gatehouse.",
        monitors="https://grafana.example.test/d/kyc",
        slos="Result within 5 s (p95)",
    )
    pins = {
        "model": CatalogModelFactory(identifier="doc-vision-kyc", regions=[eu]),
        "policy_pack": PolicyPackFactory(name="eu-strict", allowed_regions=[eu]),
    }
    v1 = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            prompt=PromptVersionFactory(name="kyc", version=1),
            change_summary="Field extraction and MRZ check.",
            **pins,
        ),
    )
    evaluation_record(
        actor=ml_engineer,
        version=v1,
        kind="safety",
        suite="harm-v2",
        metric="refusal",
        score=0.97,
        threshold=0.9,
        run_at=timezone.now() - timedelta(days=3),
    )
    sandbox = approval_request_create(actor=ml_engineer, version=v1, environment="sandbox", regions=[eu])
    for signoff in sandbox.signoffs.all():
        signoff_decide(actor=sandbox_approver, signoff=signoff, decision="approve", reason=SANDBOX_REASON)
    promotion_execute(actor=product_owner, request=sandbox, reason="First sandbox release.")
    v2 = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer,
            feature=feature,
            prompt=PromptVersionFactory(name="kyc", version=2),
            parent=v1,
            change_summary="Tamper detection.",
            **pins,
        ),
    )
    evaluation_record(
        actor=ml_engineer,
        version=v2,
        kind="benchmark",
        suite="kyc-tamper-v2",
        metric="recall",
        score=0.975,
        threshold=0.97,
        run_at=timezone.now() - timedelta(days=2),
    )
    production = approval_request_create(actor=ml_engineer, version=v2, environment="production", regions=[eu])
    security = production.signoffs.get(role="security", slot=1)
    signoff_decide(actor=security_reviewer, signoff=security, decision="reject", reason=REJECT_REASON)
    incident = incident_open(
        actor=product_owner,
        feature=feature,
        environment="sandbox",
        region=eu,
        severity="sev3",
        impact_start=timezone.now(),
        title="Blurry scans time out",
        description="Scans under 150 dpi time out.",
    )
    return {"feature": feature, "v1": v1, "v2": v2, "sandbox": sandbox, "production": production, "incident": incident}


@pytest.fixture
def restricted(other_team, eu):
    """Fraud scoring: the Payments team's, restricted to it, governance and auditors."""
    return FeatureFactory(slug="fraud-scoring", name="Fraud scoring", team=other_team, restricted=True, regions=[eu])
