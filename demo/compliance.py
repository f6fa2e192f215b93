"""The demo's EU AI Act records, for ``seed_demo``.

- The regulated KYC document check is confirmed high-risk (Annex III, access to essential services), with
  every document of its technical file written by the team and signed off by legal: its file is complete.
- The underwriting assistant is proposed high-risk by its team and waits for governance to confirm it.

Idempotent: a feature that already has a profile is left as it is.
"""

from collections import Counter

from django.contrib.auth import get_user_model
from django.urls import reverse

from compliance.choices import DocumentKind
from compliance.models import RegulatoryProfile
from compliance.services.documents import document_review, document_save_draft, document_submit
from compliance.services.profile import profile_confirm, profile_propose
from registry.models import AIFeature, Region

KYC = "kyc-document-check"
UNDERWRITING = "underwriting-assistant"

DOCUMENTS = {
    DocumentKind.RISK_MANAGEMENT: (
        "Risks identified: a forged document accepted; a genuine document refused, which delays a customer's "
        "account; uneven accuracy across document types and countries.\n\n"
        "Measures: a tamper-detection threshold reviewed each quarter; every refusal goes to a person in the "
        "manual KYC queue; red-team evaluations with new forgery sets before each release; accuracy measured "
        "per issuing country, and a country below target is routed to people only.\n\n"
        "Residual risk is accepted by the accountable owner and reviewed after every serious incident."
    ),
    DocumentKind.HUMAN_OVERSIGHT: (
        "No account is refused by the system alone: a refusal or a low-confidence result is decided by a KYC "
        "analyst, who sees the document, the fields read and the reasons given.\n\n"
        "Analysts can override any result; overrides are sampled weekly to find drift. The on-call engineer "
        "can switch the feature off (the rollback path), and all documents then go to the manual queue."
    ),
    DocumentKind.STANDARDS: (
        "ISO/IEC 42001 (AI management system): the organisation's statement of applicability.\n"
        "ISO/IEC 23894 (AI risk management): the risk process above follows it.\n"
        "ISO/IEC 27001 (information security): the platform the feature runs on is certified.\n"
        "No harmonised standard is cited in the Official Journal yet for this use; the measures above are "
        "the provider's own solutions, described in this file."
    ),
    DocumentKind.DECLARATION: (
        "The provider declares, under its sole responsibility, that the KYC document check meets the "
        "requirements for high-risk AI systems. Declaration DoC-2026-KYC-004, signed by the head of "
        "payments risk; kept with this technical file."
    ),
    DocumentKind.POST_MARKET: (
        "Watched continuously: tamper recall and extraction accuracy on a weekly labelled sample, refusal rate "
        "per country, analyst overrides.\n\n"
        "Re-run every 30 days: the benchmark and the red-team forgery set; the evidence freshness sweep flags "
        "either when older.\n\n"
        "Reviewed monthly by the accountable owner with legal; serious incidents are reported within the legal "
        "deadlines from the incident page."
    ),
}


def seed_compliance(*, created: Counter) -> None:
    users = {
        user.username: user
        for user in get_user_model().objects.filter(username__in=["product2", "legal", "governance"])
    }
    if len(users) < 3:
        return
    kyc = AIFeature.objects.filter(slug=KYC).first()
    if kyc is not None and not RegulatoryProfile.objects.filter(feature=kyc).exists():
        markets = list(Region.objects.filter(code__in=["eu"]))
        profile_propose(
            actor=users["product2"],
            feature=kyc,
            markets=markets or list(kyc.regions.all()),
            category="high_risk",
            high_risk_basis="annex_iii",
            annex_iii_area="5",
            rationale="Decides whether a person's identity document is accepted to open a payment account: access "
            "to an essential private service. Used by the bank's onboarding for customers in the EU.",
            conformity_reference="DoC-2026-KYC-004",
        )
        profile_confirm(
            actor=users["governance"], feature=kyc, reason="Annex III area 5: access to essential services."
        )
        for kind, body in DOCUMENTS.items():
            revision = document_save_draft(actor=users["product2"], feature=kyc, kind=kind, body=body)
            document_submit(actor=users["product2"], revision=revision)
            document_review(actor=users["legal"], revision=revision, approve=True, note="Checked against the file.")
            created["compliance documents"] += 1
        created["regulatory profiles"] += 1
    underwriting = AIFeature.objects.filter(slug=UNDERWRITING).first()
    if underwriting is not None and not RegulatoryProfile.objects.filter(feature=underwriting).exists():
        profile_propose(
            actor=users["product2"],
            feature=underwriting,
            markets=list(underwriting.regions.all()),
            category="high_risk",
            high_risk_basis="annex_iii",
            annex_iii_area="5",
            rationale="Suggests risk scores that feed pricing of life and health cover: Annex III area 5. "
            "Underwriters decide, but the score weighs heavily.",
        )
        created["regulatory profiles"] += 1


# The Statement of Applicability as a governance team would have it a few months into certification: most
# controls decided and owned, two excluded with their reasons, a few still open; evidence linked from the
# records the demo already holds (found by the address of their pages, as a person pastes them).
STATEMENT = {
    "A.2.2": (
        "applicable",
        "implemented",
        "governance",
        "The AI policy is enforced as gate policies: every feature passes the gate of its risk tier before it reaches people.",
    ),
    "A.2.3": (
        "applicable",
        "implemented",
        "governance",
        "The gate policies cite the security and privacy policies; legal signs off regulated releases.",
    ),
    "A.3.2": (
        "applicable",
        "implemented",
        "governance",
        "Each feature has an owning team and named roles; separation of duties is enforced at every sign-off.",
    ),
    "A.3.3": (
        "applicable",
        "partial",
        "support",
        "Anyone can open an incident against a feature; an anonymous channel is still to come.",
    ),
    "A.4.2": (
        "applicable",
        "implemented",
        "ml",
        "The registry records each feature's model, prompt, policy pack and datasets per version.",
    ),
    "A.4.3": (
        "applicable",
        "implemented",
        "ml",
        "Datasets are catalogued with their sensitivity and linked to the versions that use them.",
    ),
    "A.4.4": (
        "applicable",
        "implemented",
        "ml",
        "Models and prompts come from the catalogue; vendors are recorded with their terms.",
    ),
    "A.5.2": (
        "applicable",
        "implemented",
        "legal",
        "Each feature's EU AI Act profile is proposed by its team and confirmed by governance.",
    ),
    "A.5.3": (
        "applicable",
        "implemented",
        "legal",
        "Risk-management summaries are versioned documents, signed off by legal.",
    ),
    "A.5.4": ("applicable", "partial", "legal", "Assessed for high-risk features; lower tiers to follow this year."),
    "A.6.2.4": (
        "applicable",
        "implemented",
        "ml",
        "Every version carries its evaluations; the freshness sweep flags stale ones.",
    ),
    "A.6.2.5": (
        "applicable",
        "implemented",
        "governance",
        "Production is reached only through an approved gate request; rollbacks are recorded.",
    ),
    "A.6.2.6": (
        "applicable",
        "implemented",
        "ml",
        "Monitoring plans name the monitors, re-run intervals and reviewer; the sweep enforces them.",
    ),
    "A.6.2.7": (
        "applicable",
        "implemented",
        "legal",
        "The technical file is generated from the registry and exported with a verified audit chain.",
    ),
    "A.6.2.8": (
        "applicable",
        "implemented",
        "security",
        "Every routing decision and every change is logged; the audit trail is hash-chained.",
    ),
    "A.8.4": (
        "applicable",
        "implemented",
        "support",
        "Serious incidents run on the legal clock with reports drafted from the record.",
    ),
    "A.9.2": (
        "applicable",
        "implemented",
        "product2",
        "Human oversight measures are documented per high-risk feature and signed off.",
    ),
    "A.10.3": (
        "applicable",
        "partial",
        "security",
        "Vendor outage drills show which routes depend on each supplier; supplier reviews are yearly.",
    ),
    "A.4.5": (
        "excluded",
        "not_started",
        None,
        "Compute is the cloud provider's, covered by the information security management system's supplier controls.",
    ),
    "A.10.4": (
        "excluded",
        "not_started",
        None,
        "The AI features serve the organisation's own staff and products; no AI system is supplied to customers.",
    ),
}

EVIDENCE = {
    "A.2.2": [("approvals:policy_edit", ["regulated"]), ("approvals:policy_edit", ["production"])],
    "A.3.2": [("registry:feature_detail", [KYC])],
    "A.5.2": [("compliance:profile_doc", [KYC, DocumentKind.RISK_MANAGEMENT])],
    "A.5.3": [("compliance:profile_doc", [KYC, DocumentKind.RISK_MANAGEMENT])],
    "A.6.2.4": [("registry:version_latest", [KYC])],
    "A.6.2.5": [("approvals:request_latest", [KYC])],
    "A.6.2.6": [("freshness:plan_detail", [KYC])],
    "A.8.4": [("incidents:serious", [])],
    "A.9.2": [("compliance:profile_doc", [KYC, DocumentKind.HUMAN_OVERSIGHT])],
    "A.10.3": [("drills:latest", [])],
}


def _evidence_path(name: str, args: list) -> str | None:
    """The address of a demo record's page, as a governance admin would paste it."""
    from approvals.models import ApprovalRequest
    from compliance.models import DocumentRevision
    from drills.models import DrillRun
    from incidents.models import Incident
    from registry.models import FeatureVersion

    if name == "compliance:profile_doc":
        revision = (
            DocumentRevision.objects.filter(document__feature__slug=args[0], document__kind=args[1], status="approved")
            .order_by("-number")
            .first()
        )
        return revision and reverse("compliance:revision", args=[args[0], args[1], revision.number])
    if name == "registry:version_latest":
        version = FeatureVersion.objects.filter(feature__slug=args[0]).order_by("-number").first()
        return version and reverse("registry:version_detail", args=[args[0], version.number])
    if name == "approvals:request_latest":
        found = ApprovalRequest.objects.filter(version__feature__slug=args[0]).order_by("-pk").first()
        return found and reverse("approvals:request_detail", args=[found.pk])
    if name == "incidents:serious":
        found = Incident.objects.exclude(serious_decided_at=None).order_by("pk").first()
        return found and reverse("incidents:incident_detail", args=[found.pk])
    if name == "drills:latest":
        found = DrillRun.objects.order_by("-pk").first()
        return found and reverse("drills:run_detail", args=[found.pk])
    return reverse(name, args=args)


def seed_standards(*, created: Counter) -> None:
    """The Statement of Applicability and a few NIST AI RMF decisions, by the governance admin."""
    from compliance.models import ControlStatement
    from compliance.services.standards import control_update, evidence_link, subcategory_update

    people = {user.username: user for user in get_user_model().objects.filter(is_active=True)}
    governance = people.get("governance")
    if governance is None or ControlStatement.objects.exists():
        return
    for control_id, (applies, state, owner, why) in STATEMENT.items():
        control_update(
            actor=governance,
            control_id=control_id,
            applicability=applies,
            implementation=state,
            justification=why,
            owner=people.get(owner) if owner else None,
        )
        created["ISO/IEC 42001 controls decided"] += 1
    for control_id, references in EVIDENCE.items():
        for name, args in references:
            path = _evidence_path(name, args)
            if path:
                evidence_link(actor=governance, control_id=control_id, reference=path)
                created["evidence links"] += 1
    subcategory_update(
        actor=governance,
        subcategory_id="GOVERN 1.6",
        controls=["A.4.2"],
        implementation="implemented",
        notes="The registry is the inventory: every AI feature, its risk tier and what serves it where.",
        owner=governance,
    )
    subcategory_update(
        actor=governance,
        subcategory_id="MANAGE 2.4",
        controls=["A.6.2.5", "A.6.2.6"],
        implementation="implemented",
        notes="Rollback and the kill switch are rehearsed in drills; every rollback is on the feature's history.",
        owner=people.get("ml"),
    )
    created["NIST AI RMF subcategories decided"] += 2
