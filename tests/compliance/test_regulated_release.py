"""The EU AI Act profile decides what a release needs: a confirmed high-risk feature is regulated, and its
gate request to production is approved, and its approval used, only with a complete technical file."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from approvals.choices import RequestStatus
from approvals.services import promotion_execute
from compliance.choices import DocumentKind, RevisionStatus
from compliance.models import RegulatoryProfile
from compliance.services.documents import document_review, document_save_draft, document_submit
from compliance.services.profile import profile_confirm, profile_propose
from compliance.technical_file import completeness, technical_file
from core.exceptions import Conflict
from registry.models import AIFeature, AuditEvent, Deployment, Notification
from registry.services import version_create, version_submit
from tests.compliance.conftest import EVIDENCE
from tests.factories import DatasetFactory


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def with_dataset(ml_engineer, feature, pins, team):
    """A submitted version that declares its training data."""

    def make():
        dataset = DatasetFactory(name="applicants-2025", owner=team)
        version = version_create(
            actor=ml_engineer,
            feature=feature,
            change_summary="Ranker trained on 2025 applications.",
            datasets=[(dataset, "training")],
            **pins,
        )
        return version_submit(actor=ml_engineer, version=version)

    return make


def test_a_proposal_waits_for_governance_and_changes_no_rule(feature, product_owner, governance_admin, eu):
    profile = profile_propose(
        actor=product_owner,
        feature=feature,
        markets=[eu],
        category="high_risk",
        high_risk_basis="annex_iii",
        annex_iii_area="4",
        rationale="Ranks job applicants.",
    )
    assert profile.status == "proposed" and profile.in_force == "undetermined"
    assert not profile.is_high_risk
    assert Notification.objects.filter(user=governance_admin, subject__contains="to confirm").exists()
    with pytest.raises(PermissionDenied):
        profile_confirm(actor=product_owner, feature=feature)

    profile_confirm(actor=governance_admin, feature=feature)
    assert fresh(profile).is_high_risk
    assert fresh(feature).risk_tier == "regulated"  # raised through the registry's own service, audited
    actions = list(AuditEvent.objects.filter(feature=feature).values_list("action", flat=True))
    assert "compliance.profile_proposed" in actions and "compliance.profile_confirmed" in actions
    assert "feature.updated" in actions


def test_lowering_the_category_keeps_the_confirmed_rules_until_governance_agrees(high_risk, feature, product_owner, eu):
    profile_propose(
        actor=product_owner, feature=feature, markets=[eu], category="minimal", rationale="Only suggests wording."
    )
    profile = RegulatoryProfile.objects.get(feature=feature)
    assert profile.category == "minimal" and profile.status == "proposed"
    assert profile.is_high_risk  # still in force


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"category": "high_risk"}, "high_risk_basis"),
        ({"category": "high_risk", "high_risk_basis": "annex_iii"}, "annex_iii_area"),
        ({"category": "high_risk", "high_risk_basis": "annex_i"}, "annex_i_product"),
        ({"category": "limited"}, "transparency_duties"),
        ({"category": "minimal", "rationale": ""}, "rationale"),
        ({"category": "minimal", "retention_years": 5}, "retention_years"),
    ],
)
def test_a_profile_that_does_not_hang_together_is_refused_by_field(feature, product_owner, eu, fields, field):
    fields = {"rationale": "Because.", **fields}
    with pytest.raises(ValidationError) as refused:
        profile_propose(actor=product_owner, feature=feature, markets=[eu], **fields)
    assert field in refused.value.message_dict
    assert not RegulatoryProfile.objects.exists()


def test_documents_are_signed_off_by_someone_else_and_fixed_once_sent(
    feature, product_owner, legal_reviewer, governance_admin, outsider
):
    revision = document_save_draft(
        actor=product_owner, feature=feature, kind=DocumentKind.RISK_MANAGEMENT, body="Risks and measures."
    )
    document_submit(actor=product_owner, revision=revision)
    with pytest.raises(Conflict):  # no edit once sent
        document_save_draft(actor=product_owner, feature=feature, kind=DocumentKind.RISK_MANAGEMENT, body="Changed.")
    with pytest.raises(PermissionDenied):  # separation of duties, even for a reviewer role
        document_review(actor=product_owner, revision=revision, approve=True)
    with pytest.raises(PermissionDenied):
        document_review(actor=outsider, revision=revision, approve=True)
    with pytest.raises(ValidationError):  # sending back says why
        document_review(actor=legal_reviewer, revision=revision, approve=False)
    approved = document_review(actor=legal_reviewer, revision=revision, approve=True)
    assert approved.status == RevisionStatus.APPROVED and approved.document.current_id == approved.pk
    assert approved.sha256 == approved.digest()

    second = document_save_draft(
        actor=product_owner, feature=feature, kind=DocumentKind.RISK_MANAGEMENT, body="Risks, measures, residual."
    )
    document_submit(actor=product_owner, revision=second)
    document_review(actor=governance_admin, revision=second, approve=True)
    assert fresh(approved).status == RevisionStatus.SUPERSEDED
    assert fresh(second).number == 2
    assert AuditEvent.objects.filter(action="compliance.document_approved", feature=feature).count() == 2


def test_the_gate_holds_a_high_risk_release_until_the_file_is_complete(
    complete_file,
    feature,
    with_dataset,
    record_evidence,
    request_gate,
    sign_all,
    product_owner,
    legal_reviewer,
    django_capture_on_commit_callbacks,
):
    version = with_dataset()
    record_evidence(version, EVIDENCE)
    # One document still missing: every sign-off given, the request still waits.
    document = feature.compliance_documents.get(kind=DocumentKind.DECLARATION)
    document.current = None
    document.save(update_fields=["current"])
    request = sign_all(request_gate(version))
    assert request.status == RequestStatus.PENDING
    found = completeness(feature, version)
    assert found.applies and not found.complete
    assert any("declaration" in gap.lower() for gap in found.gaps)

    revision = document_save_draft(
        actor=product_owner, feature=feature, kind=DocumentKind.DECLARATION, body="Declared conform."
    )
    document_submit(actor=product_owner, revision=revision)
    with django_capture_on_commit_callbacks(execute=True):
        document_review(actor=legal_reviewer, revision=revision, approve=True)  # the request is looked at again
    assert fresh(request).status == RequestStatus.APPROVED
    assert completeness(feature, version).complete

    promotion_execute(actor=product_owner, request=fresh(request))
    assert Deployment.objects.filter(feature=feature, version=version, environment="production").count() == 2


def test_an_approval_is_not_used_once_the_file_became_incomplete(
    complete_file, feature, with_dataset, record_evidence, request_gate, sign_all, product_owner
):
    version = with_dataset()
    record_evidence(version, EVIDENCE)
    request = sign_all(request_gate(version))
    assert request.status == RequestStatus.APPROVED
    RegulatoryProfile.objects.filter(feature=feature).update(conformity_reference="")
    with pytest.raises(Conflict) as refused:
        promotion_execute(actor=product_owner, request=fresh(request))
    assert refused.value.code in ("technical_file_incomplete",)
    assert "declaration" in refused.value.message.lower()
    assert not Deployment.objects.filter(feature=feature, environment="production").exists()


def test_a_feature_not_high_risk_is_not_held(feature, with_dataset, record_evidence, request_gate, sign_all):
    version = with_dataset()
    record_evidence(version, EVIDENCE)
    assert sign_all(request_gate(version)).status == RequestStatus.APPROVED


def test_a_prohibited_practice_is_never_promoted(
    feature, product_owner, governance_admin, new_version, record_evidence, request_gate, sign_all, eu
):
    version = new_version()
    record_evidence(version)
    profile_propose(
        actor=governance_admin,
        feature=feature,
        category="prohibited",
        rationale="Infers emotions of employees.",
        confirm=True,
    )
    request = sign_all(request_gate(version))
    assert request.status == RequestStatus.PENDING
    from registry.services import deployment_promote

    with pytest.raises(Conflict) as refused:
        deployment_promote(
            actor=governance_admin,
            version=version,
            environment="sandbox",
            regions=[eu],
            reason="Try.",
            approval_request_id=request.pk,
        )
    assert refused.value.code == "prohibited_practice"


def test_the_file_says_what_each_section_holds(complete_file, feature, with_dataset, record_evidence):
    version = with_dataset()
    record_evidence(version, EVIDENCE)
    content = technical_file(feature, version)
    assert [section["number"] for section in content["sections"]] == list(range(1, 10))
    by_key = {section["key"]: section for section in content["sections"]}
    assert by_key["development"]["content"]["datasets"] == [{"name": "applicants-2025", "usage": "Training"}]
    assert by_key["lifecycle"]["content"]["versions"][-1]["change_summary"] == "Ranker trained on 2025 applications."
    assert by_key["declaration"]["content"]["reference"] == "DoC-2026-017"
    assert content["profile"]["annex_iii_area"].startswith("4.")
    assert by_key["metrics"]["complete"] is True
    assert content["retention_years"] == 10


def test_pages_show_the_profile_file_and_documents_and_hide_restricted_features(
    client, complete_file, feature, product_owner, outsider, legal_reviewer
):
    client.force_login(product_owner)
    page = client.get(reverse("compliance:profile", args=[feature.slug]))
    assert page.status_code == 200
    assert b"High-risk" in page.content and b"Technical file" in page.content
    assert client.get(reverse("compliance:technical_file", args=[feature.slug])).status_code == 200
    assert client.get(reverse("compliance:panel", args=[feature.slug])).status_code == 200
    assert client.get(reverse("compliance:register")).status_code == 200
    # An empty draft keeps the page with the error, never a 500.
    response = client.post(reverse("compliance:document", args=[feature.slug, "risk_management"]), {"body": "  "})
    assert response.status_code == 400 and b"errorlist" in response.content

    AIFeature.objects.filter(pk=feature.pk).update(restricted=True)
    client.force_login(outsider)
    for url in (
        reverse("compliance:profile", args=[feature.slug]),
        reverse("compliance:technical_file", args=[feature.slug]),
        reverse("compliance:document", args=[feature.slug, "risk_management"]),
        reverse("api:feature-detail", args=[feature.slug])
        if False
        else reverse("compliance-api:technical-file", args=[feature.slug]),
    ):
        assert client.get(url).status_code == 404, url
    assert feature.name.encode() not in client.get(reverse("compliance:register")).content


def test_the_api_proposes_confirms_and_signs_off(client, feature, product_owner, governance_admin, legal_reviewer, eu):
    client.force_login(product_owner)
    url = reverse("compliance-api:profile", args=[feature.slug])
    body = {
        "category": "high_risk",
        "high_risk_basis": "annex_iii",
        "annex_iii_area": "5",
        "rationale": "Decides credit limits.",
        "markets": ["eu"],
    }
    assert client.put(url, body, content_type="application/json").json()["in_force"] == "undetermined"
    assert client.put(url, {**body, "markets": ["xx"]}, content_type="application/json").status_code == 400
    assert client.post(url + "confirm/", {}, content_type="application/json").status_code == 403
    client.force_login(governance_admin)
    assert client.post(url + "confirm/", {}, content_type="application/json").json()["in_force"] == "high_risk"

    client.force_login(product_owner)
    drafts = reverse("compliance-api:document-draft", args=[feature.slug, "standards"])
    created = client.post(drafts, {"body": "ISO/IEC 42001 management system."}, content_type="application/json")
    assert created.status_code == 201
    number = created.json()["number"]
    revision = reverse("compliance-api:revision", args=[feature.slug, "standards", number])
    assert client.post(revision + "submit/").json()["status"] == "in_review"
    assert client.post(revision + "review/", {"approve": True}, content_type="application/json").status_code == 403
    client.force_login(legal_reviewer)
    assert (
        client.post(revision + "review/", {"approve": True}, content_type="application/json").json()["status"]
        == "approved"
    )
    listed = client.get(reverse("compliance-api:documents", args=[feature.slug])).json()
    assert {row["kind"]: bool(row["current"]) for row in listed}["standards"] is True
    file = client.get(reverse("compliance-api:technical-file", args=[feature.slug])).json()
    assert file["completeness"]["required_before_production"] is True
    assert client.get(reverse("compliance-api:technical-file", args=[feature.slug]) + "?version=x").status_code == 400


def test_the_technical_file_exports_like_an_evidence_pack(complete_file, feature, auditor, settings, tmp_path):
    import hashlib
    import json

    from packs.services import pack_export_build, pack_export_request

    settings.MEDIA_ROOT = tmp_path
    built = {}
    for pack_format in ("json", "pdf"):
        export = pack_export_request(actor=auditor, feature=feature, pack_format=pack_format, kind="technical_file")
        built[pack_format] = pack_export_build(export_id=export.pk)
        assert built[pack_format].status == "ready", built[pack_format].error
    data = built["json"].file.open("rb").read()
    assert hashlib.sha256(data).hexdigest() == built["json"].sha256
    content = json.loads(data)
    assert content["schema"] == "gatehouse.technical-file/1"
    assert len(content["sections"]) == 9 and content["audit"]["verification"]["holds"] is True
    assert built["pdf"].file.open("rb").read(4) == b"%PDF"
    assert built["pdf"].download_name.startswith("technical-file-claims-triage-")
    assert (built["pdf"].retain_until - built["pdf"].created_at.date()).days >= 3650
    assert AuditEvent.objects.filter(action="evidence_pack.built", payload__kind="technical_file").count() == 2


def test_readiness_shows_the_file_of_a_feature_with_a_profile(client, high_risk, feature, product_owner):
    client.force_login(product_owner)
    page = client.get(reverse("readiness:feature", args=[feature.slug]))
    assert page.status_code == 200
    assert b"EU AI Act technical file" in page.content and b"production waits for a complete file" in page.content


def test_a_governance_admin_of_the_owning_team_does_not_confirm_its_profile(feature, governance_admin, team, eu):
    from core.exceptions import Refused
    from registry.permissions import forget_cached_rights

    governance_admin.groups.add(team.group)
    forget_cached_rights(governance_admin)
    with pytest.raises(Refused) as refused:
        profile_propose(
            actor=governance_admin, feature=feature, markets=[eu], category="minimal", rationale="Ours.", confirm=True
        )
    assert refused.value.code == "separation_of_duties"
    assert not RegulatoryProfile.objects.exists()


def test_the_api_shows_the_file_check_on_a_request(
    client, complete_file, feature, with_dataset, record_evidence, request_gate, ml_engineer
):
    version = with_dataset()
    record_evidence(version, EVIDENCE)
    RegulatoryProfile.objects.filter(feature=feature).update(conformity_reference="")
    request = request_gate(version)
    client.force_login(ml_engineer)
    body = client.get(reverse("approvals-api:approval-request-detail", args=[request.pk])).json()
    check = next(check for check in body["checks"] if check["kind"] == "compliance")
    assert check["met"] is False and "declaration" in check["detail"].lower()
    listed = client.get(reverse("approvals-api:approval-request-list")).json()["results"]
    assert any(check["kind"] == "compliance" for row in listed for check in row["checks"])


def test_the_register_costs_the_same_for_2_or_8_profiled_features(client, governance_admin, team, eu, product_owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import FeatureFactory

    def add(count):
        for _ in range(count):
            feature = FeatureFactory(team=team, regions=[eu])
            profile_propose(actor=product_owner, feature=feature, markets=[eu], category="minimal", rationale="Tone.")

    client.force_login(governance_admin)
    client.get(reverse("compliance:register"))  # the first request pays for the session and caches once
    counts = []
    for count in (2, 6):
        add(count)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("compliance:register")).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
