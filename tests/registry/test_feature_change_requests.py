"""Weakening governance needs governance: a team that lowers its feature's risk tier, lifts its restriction
or widens a restricted or regulated feature's regions does not change it; the change waits as a request
that governance approves (not the person who asked) or rejects with a reason. The rest of the edit applies
at once, and governance's own edits apply directly."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.test import APIClient

from core.exceptions import Conflict
from registry.choices import ChangeRequestStatus, RiskTier
from registry.models import AIFeature, AuditEvent, FeatureChangeRequest, Notification
from registry.services import (
    api_token_create,
    feature_change_approve,
    feature_change_reject,
    feature_update,
)
from tests.factories import FeatureFactory, RegionFactory, UserFactory

FEATURES = "/api/v1/features/"
CHANGES = "/api/v1/feature-changes/"


def as_user(user):
    _, raw = api_token_create(actor=user, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def fraud(team, product_owner, eu):
    """A restricted, regulated feature of the team, serving eu."""
    return FeatureFactory(
        slug="fraud-scoring",
        name="Fraud scoring",
        team=team,
        restricted=True,
        risk_tier=RiskTier.REGULATED,
        accountable_owner=product_owner,
        regions=[eu],
    )


def stored(feature):
    return AIFeature.objects.get(pk=feature.pk)


def regions_of(feature):
    return sorted(stored(feature).regions.values_list("code", flat=True))


# --- The API: 202 and a pending change ---------------------------------------------------------------


def test_a_team_engineer_lifting_the_restriction_gets_a_pending_request_not_a_public_feature(
    fraud, ml_engineer, governance_admin
):
    answer = as_user(ml_engineer).patch(
        f"{FEATURES}fraud-scoring/",
        {"restricted": False, "name": "Fraud scoring v2", "change_reason": "Other teams want to reuse it."},
        format="json",
    )

    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert "need governance approval" in body["detail"]
    assert body["change_request"]["status"] == "pending"
    assert body["change_request"]["changes"] == {"restricted": False}
    assert body["change_request"]["requested_by"] == ml_engineer.username
    assert body["feature"]["restricted"] is True
    assert body["feature"]["name"] == "Fraud scoring v2"  # the rest of the edit applied
    assert stored(fraud).restricted is True
    assert Notification.objects.filter(user=governance_admin, url__contains="fraud-scoring").exists()


def test_a_plain_edit_still_answers_200(fraud, ml_engineer):
    answer = as_user(ml_engineer).patch(
        f"{FEATURES}fraud-scoring/",
        {"name": "Fraud scoring", "risk_tier": "regulated", "change_reason": "Typo."},
        format="json",
    )

    assert answer.status_code == 200
    assert not FeatureChangeRequest.objects.exists()


def test_the_api_documents_the_202(client, outsider):
    client.force_login(outsider)
    schema = client.get("/api/schema/", {"format": "json"}).json()

    responses = schema["paths"]["/api/v1/features/{slug}/"]["patch"]["responses"]
    assert "202" in responses
    assert "/api/v1/feature-changes/{id}/approve/" in schema["paths"]


# --- The service -------------------------------------------------------------------------------------


def test_lowering_the_risk_tier_waits_until_governance_approves(fraud, product_owner, governance_admin):
    feature = feature_update(
        actor=product_owner, feature=fraud, reason="Only scores, no decisions.", risk_tier=RiskTier.LOW
    )

    change = feature.change_request
    assert change.changes == {"risk_tier": "low"}
    assert stored(fraud).risk_tier == RiskTier.REGULATED
    assert AuditEvent.objects.filter(action="feature.change_requested").count() == 1
    assert not AuditEvent.objects.filter(action="feature.updated").exists()

    feature_change_approve(actor=governance_admin, change=change, reason="Checked the scope.")

    assert stored(fraud).risk_tier == RiskTier.LOW
    assert FeatureChangeRequest.objects.get().status == ChangeRequestStatus.APPROVED
    updated = AuditEvent.objects.get(action="feature.updated")
    assert updated.actor == governance_admin
    assert updated.payload["changes"]["risk_tier"] == ["regulated", "low"]
    assert updated.payload["requested_by"] == product_owner.username
    assert AuditEvent.objects.filter(action="feature.change_approved").exists()
    assert Notification.objects.filter(user=product_owner, subject__contains="approved").exists()


def test_raising_the_risk_tier_or_restricting_applies_at_once(team, product_owner):
    feature = FeatureFactory(team=team, risk_tier=RiskTier.MEDIUM, accountable_owner=product_owner)

    updated = feature_update(
        actor=product_owner, feature=feature, reason="Now decides.", risk_tier=RiskTier.HIGH, restricted=True
    )

    assert updated.change_request is None
    assert (stored(feature).risk_tier, stored(feature).restricted) == (RiskTier.HIGH, True)


def test_widening_a_regulated_features_regions_waits_while_narrowing_applies(
    fraud, product_owner, governance_admin, eu, us
):
    uk = RegionFactory(code="uk")
    fraud.regions.set([eu, us])

    feature = feature_update(
        actor=product_owner, feature=fraud, reason="Launching in the UK, leaving the US.", regions=[eu, uk]
    )

    assert feature.change_request.changes == {"regions_added": ["uk"], "regions_removed": ["us"]}
    assert regions_of(fraud) == ["eu"]  # leaving us applied; adding uk waits
    feature_change_approve(actor=governance_admin, change=feature.change_request)
    assert regions_of(fraud) == ["eu", "uk"]


def test_widening_an_ordinary_features_regions_applies_at_once(team, product_owner, eu, us):
    feature = FeatureFactory(team=team, risk_tier=RiskTier.HIGH, accountable_owner=product_owner, regions=[eu])

    updated = feature_update(actor=product_owner, feature=feature, reason="US launch.", regions=[eu, us])

    assert updated.change_request is None
    assert regions_of(feature) == ["eu", "us"]


def test_governance_edits_apply_directly(fraud, governance_admin):
    updated = feature_update(
        actor=governance_admin,
        feature=fraud,
        reason="Reviewed: public now.",
        restricted=False,
        risk_tier=RiskTier.MEDIUM,
    )

    assert updated.change_request is None
    assert (stored(fraud).restricted, stored(fraud).risk_tier) == (False, RiskTier.MEDIUM)


def test_a_governance_admin_of_the_owning_team_cannot_wave_their_own_change_through(fraud, team, governance_admin):
    insider = UserFactory(username="gus-governance", roles=["governance"], teams=[team])

    change = feature_update(
        actor=insider, feature=fraud, reason="Ours, and I am governance.", restricted=False
    ).change_request

    assert change is not None and stored(fraud).restricted is True
    with pytest.raises(PermissionDenied, match="separation of duties"):
        feature_change_approve(actor=insider, change=change)
    feature_change_approve(actor=governance_admin, change=change)
    assert stored(fraud).restricted is False


@pytest.mark.parametrize("decider", ["ml_engineer", "product_owner", "auditor", "security_reviewer"])
def test_only_governance_decides(request, fraud, product_owner, decider):
    change = feature_update(actor=product_owner, feature=fraud, reason="Lower.", risk_tier=RiskTier.HIGH).change_request

    with pytest.raises(PermissionDenied):
        feature_change_approve(actor=request.getfixturevalue(decider), change=change)
    with pytest.raises(PermissionDenied):
        feature_change_reject(actor=request.getfixturevalue(decider), change=change, reason="No.")
    assert stored(fraud).risk_tier == RiskTier.REGULATED


def test_a_rejection_says_why_and_changes_nothing(fraud, product_owner, governance_admin):
    change = feature_update(actor=product_owner, feature=fraud, reason="Lower.", restricted=False).change_request

    with pytest.raises(ValidationError):
        feature_change_reject(actor=governance_admin, change=change, reason=" ")
    feature_change_reject(actor=governance_admin, change=change, reason="Customer data: stays restricted.")

    assert stored(fraud).restricted is True
    assert FeatureChangeRequest.objects.get().decision_reason == "Customer data: stays restricted."
    assert Notification.objects.filter(user=product_owner, subject__contains="rejected").exists()
    with pytest.raises(Conflict):
        feature_change_approve(actor=governance_admin, change=change)
    assert stored(fraud).restricted is True


def test_one_pending_change_at_a_time(fraud, product_owner, ml_engineer):
    feature_update(actor=product_owner, feature=fraud, reason="Lower.", restricted=False)

    with pytest.raises(Conflict):
        feature_update(actor=ml_engineer, feature=fraud, reason="Lower still.", risk_tier=RiskTier.LOW, name="Renamed")
    assert stored(fraud).name == "Fraud scoring"  # nothing of the refused edit applied
    feature_update(actor=ml_engineer, feature=fraud, reason="Clearer name.", name="Renamed")  # other edits still do
    assert stored(fraud).name == "Renamed"


# --- The API: deciding --------------------------------------------------------------------------------


def test_governance_approves_through_the_api_and_the_asker_cannot(fraud, ml_engineer, governance_admin, outsider):
    change = feature_update(actor=ml_engineer, feature=fraud, reason="Lower.", risk_tier=RiskTier.HIGH).change_request

    assert [row["id"] for row in as_user(ml_engineer).get(CHANGES).json()["results"]] == [change.pk]
    assert as_user(outsider).get(CHANGES).json()["results"] == []
    assert as_user(outsider).post(f"{CHANGES}{change.pk}/approve/", {}, format="json").status_code == 404
    assert as_user(ml_engineer).post(f"{CHANGES}{change.pk}/approve/", {}, format="json").status_code == 403
    assert as_user(governance_admin).post(f"{CHANGES}{change.pk}/reject/", {}, format="json").status_code == 400

    answer = as_user(governance_admin).post(f"{CHANGES}{change.pk}/approve/", {"reason": "Fine."}, format="json")

    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "approved"
    assert answer.json()["decided_by"] == governance_admin.username
    assert stored(fraud).risk_tier == RiskTier.HIGH


# --- The pages ----------------------------------------------------------------------------------------


def edit_form(feature, **changes):
    feature = stored(feature)
    data = {
        "name": feature.name,
        "purpose": feature.purpose,
        "team": feature.team_id,
        "accountable_owner": feature.accountable_owner_id,
        "incident_owner": feature.incident_owner_id,
        "escalation_path": feature.escalation_path,
        "risk_tier": feature.risk_tier,
        "regions": [region.pk for region in feature.regions.all()],
        "intended_uses": feature.intended_uses,
        "disallowed_uses": feature.disallowed_uses,
        "data_classification": feature.data_classification,
        "status": feature.status,
        "restricted": "on" if feature.restricted else "",
        "reason": "Edited on the page.",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value != ""}


def test_the_edit_page_says_the_weakening_part_was_sent_to_governance(client, fraud, ml_engineer):
    client.force_login(ml_engineer)
    form = client.get(f"/features/{fraud.slug}/edit/")
    assert b"needs governance approval" in form.content

    answer = client.post(
        f"/features/{fraud.slug}/edit/", edit_form(fraud, restricted="", name="Fraud scoring v2"), follow=True
    )

    page = answer.content.decode()
    assert "These changes need governance approval and were sent as a request" in page
    assert "Saved the other changes to Fraud scoring v2" in page
    assert 'id="pending-change"' in page
    assert "Approve the change" not in page  # the team sees the request, not the decision
    assert stored(fraud).restricted is True


def test_governance_sees_the_pending_change_and_approves_it_on_the_feature_page(
    client, fraud, ml_engineer, governance_admin
):
    change = feature_update(actor=ml_engineer, feature=fraud, reason="Reuse.", restricted=False).change_request
    client.force_login(governance_admin)

    page = client.get(f"/features/{fraud.slug}/").content.decode()
    assert "Waiting for governance approval" in page and "Approve the change" in page and "Reject the change" in page

    answer = client.post(f"/features/{fraud.slug}/changes/{change.pk}/approve/", {"reason": ""}, follow=True)

    assert "now applies" in answer.content.decode()
    assert stored(fraud).restricted is False


def test_the_asker_who_is_governance_sees_no_approve_button(client, fraud, team):
    insider = UserFactory(username="gus-governance", roles=["governance"], teams=[team])
    change = feature_update(actor=insider, feature=fraud, reason="Ours.", restricted=False).change_request
    client.force_login(insider)

    page = client.get(f"/features/{fraud.slug}/").content.decode()
    assert "Approve the change" not in page and "another governance admin must approve it" in page

    answer = client.post(f"/features/{fraud.slug}/changes/{change.pk}/approve/", follow=True)
    assert "separation of duties" in answer.content.decode()
    assert stored(fraud).restricted is True


def test_those_who_may_not_see_the_feature_see_no_trace_of_its_change(
    client, fraud, product_owner, other_product_owner
):
    change = feature_update(actor=product_owner, feature=fraud, reason="Lower.", restricted=False).change_request
    client.force_login(other_product_owner)

    assert client.post(f"/features/{fraud.slug}/changes/{change.pk}/reject/", {"reason": "x"}).status_code == 404
    assert not Notification.objects.filter(user=other_product_owner).exists()
