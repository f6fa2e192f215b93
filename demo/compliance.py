"""The demo's EU AI Act records, for ``seed_demo``.

- The regulated KYC document check is confirmed high-risk (Annex III, access to essential services), with
  every document of its technical file written by the team and signed off by legal: its file is complete.
- The underwriting assistant is proposed high-risk by its team and waits for governance to confirm it.

Idempotent: a feature that already has a profile is left as it is.
"""

from collections import Counter

from django.contrib.auth import get_user_model

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
