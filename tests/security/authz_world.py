"""The world the authorization matrix runs against: a restricted, high-risk feature of the Claims team
(*Fraud signals*) with every kind of object a URL can name, all made through the services.

Who may see it: the owning team (its ML engineer and product owner), governance admins and auditors.
Everyone else (an outsider, support, security and legal reviewers, another team's product owner) must
not learn it exists."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from approvals.models import SignOff
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from drills.services import drill_run
from freshness.models import FreshnessFinding, SweepRun
from freshness.plans import plan_save
from freshness.services import freshness_sweep
from identity.reviews.services import access_review_start
from incidents.services import incident_mark_serious, incident_open, incident_snapshot_evidence
from packs.services import pack_export_request
from registry.models import AuditEvent, ReviewerGrant
from registry.services import (
    api_token_create,
    evaluation_record,
    feature_update,
    notify,
    reviewer_grant_create,
    version_create,
    version_submit,
)
from routing.services import resolve
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    UserFactory,
    VendorFactory,
)
from webhooks.models import WebhookDelivery
from webhooks.services import subscription_create

RESTRICTED_SLUG = "fraud-signals"
RESTRICTED_NAME = "Fraud signals"
EVIDENCE = ("benchmark", "safety", "privacy_review")


def build_world(
    *, team, eu, product_owner, ml_engineer, security_reviewer, legal_reviewer, governance_admin, **_personas
) -> dict:
    from approvals.defaults import install_default_policies
    from approvals.models import GateAssignment, GatePolicy, GateRequirement

    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    # Reviewers from outside the team sign through reviewer grants; the personas security_reviewer and
    # legal_reviewer hold the same roles without one, and must learn nothing.
    second_ml = UserFactory(username="max-ml", roles=["ml"])
    second_security = UserFactory(username="sid-security", roles=["security"])
    third_security = UserFactory(username="sue-security", roles=["security"])
    second_legal = UserFactory(username="lou-legal", roles=["legal"])
    signers = {
        "ml": [second_ml],
        "security": [second_security, third_security],
        "legal": [second_legal],
        "product": [product_owner],
    }

    vendor = VendorFactory(slug="acme-ai", name="Acme AI")
    model = CatalogModelFactory(vendor=vendor, identifier="acme-large", regions=[eu])
    prompt = PromptVersionFactory(name="fraud-prompt")
    policy = PolicyPackFactory(name="fraud-policy", allowed_regions=[eu])
    dataset = DatasetFactory(name="fraud-cases", owner=team)
    feature = FeatureFactory(
        slug=RESTRICTED_SLUG,
        name=RESTRICTED_NAME,
        team=team,
        restricted=True,
        risk_tier="high",
        accountable_owner=product_owner,
        incident_owner=product_owner,
        regions=[eu],
        rollback_path="Flip the flag back.",
        monitors="https://grafana.example.test/d/fraud",
        slos="p95 under 2 s",
    )
    pins = {"model": model, "prompt": prompt, "policy_pack": policy}
    for reviewer in (second_ml, second_security, third_security, second_legal):
        reviewer_grant_create(
            actor=governance_admin,
            feature=feature,
            user=reviewer,
            reason="Release review.",
            expires_at=timezone.now() + timedelta(days=30),
        )

    def submitted(summary):
        return version_submit(
            actor=ml_engineer,
            version=version_create(actor=ml_engineer, feature=feature, change_summary=summary, **pins),
        )

    def evidence(version):
        for kind in EVIDENCE:
            evaluation_record(
                actor=ml_engineer,
                version=version,
                kind=kind,
                suite=f"{kind}-suite",
                metric="score",
                score=0.92,
                threshold=0.8,
                run_at=timezone.now() - timedelta(days=1),
            )

    v1 = submitted("First release.")
    evidence(v1)
    approved = approval_request_create(
        actor=ml_engineer, version=v1, environment="production", regions=[eu], note="Please review."
    )
    for signoff in SignOff.objects.filter(request=approved).order_by("role", "slot"):
        signoff_decide(
            actor=signers[signoff.role][signoff.slot - 1], signoff=signoff, decision="approve", reason="Looks right."
        )
    promotion_execute(actor=product_owner, request=approved, reason="First release.")

    v2 = submitted("Tighter thresholds.")
    evidence(v2)
    pending = approval_request_create(actor=ml_engineer, version=v2, environment="production", regions=[eu])
    pending_signoff = SignOff.objects.filter(request=pending, role="security").order_by("slot").first()
    draft = version_create(actor=ml_engineer, feature=feature, change_summary="Work in progress.", **pins)

    incident = incident_open(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=timezone.now() - timedelta(minutes=30),
        title="Fraud signals misfire",
        description="Fraud signals flagged good payments.",
    )
    # Serious, with its report's clock running and one evidence snapshot.
    incident = incident_mark_serious(
        actor=product_owner, incident=incident, criteria=["rights"], aware_at=timezone.now() - timedelta(minutes=10)
    )
    snapshot = incident_snapshot_evidence(actor=product_owner, incident=incident, note="Authorization world.")
    # A monitoring plan reviewed by governance admins: its review page is theirs alone.
    plan_save(
        actor=product_owner,
        feature=feature,
        reason="Post-market monitoring.",
        monitors=["https://grafana.example.test/d/fraud"],
        reviewer_role="governance",
        review_interval_days=30,
        evaluations={"benchmark": 30},
    )
    freshness_sweep(now=timezone.now() + timedelta(days=400))  # everything stale: findings open
    finding = FreshnessFinding.objects.filter(feature=feature, kind="evidence").first()
    sweep = SweepRun.objects.order_by("-pk").first()

    subscription, _secret = subscription_create(
        actor=ml_engineer,
        name="fraud-hook",
        target_url="https://hooks.example.test/fraud",
        events=["incident.opened"],
        team=team,
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event="incident.opened",
        payload={"feature": {"slug": RESTRICTED_SLUG, "name": RESTRICTED_NAME}},
        status="failed",
        attempts=1,
    )
    export = pack_export_request(actor=governance_admin, feature=feature, pack_format="json")
    drill = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=vendor, note="Quarterly drill.")
    # The team asks to lower the tier: a change waiting for governance.
    feature_change = feature_update(
        actor=ml_engineer, feature=feature, reason="Scores only.", risk_tier="medium"
    ).change_request
    token, _raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    notify(users=[ml_engineer, product_owner], subject=f"{RESTRICTED_NAME} needs you", url="/features/")
    decision = resolve(user=ml_engineer, feature_slug=RESTRICTED_SLUG, region_code="eu").token
    # An open access review: the Claims team's memberships go to its accountable owner, roles to governance.
    access_review = access_review_start(
        actor=governance_admin, name="2026 Q4 access review", due_at=timezone.now() + timedelta(days=14)
    )
    return {
        "feature": feature,
        "v1": v1,
        "v2": v2,
        "draft": draft,
        "approved": approved,
        "pending": pending,
        "signoff": pending_signoff,
        "incident": incident,
        "snapshot": snapshot,
        "finding": finding,
        "sweep": sweep,
        "subscription": subscription,
        "delivery": delivery,
        "export": export,
        "drill": drill,
        "token": token,
        "decision": decision,
        "vendor": vendor,
        "model": model,
        "prompt": prompt,
        "policy": policy,
        "dataset": dataset,
        "feature_change": feature_change,
        "audit_event": AuditEvent.objects.order_by("-sequence").first(),
        "grant": ReviewerGrant.objects.filter(feature=feature).first(),
        "access_review": access_review,
        "access_review_item": access_review.items.get(user=ml_engineer, kind="team"),
    }
