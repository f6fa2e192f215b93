"""Who may register, change and see a feature: its owning team and governance change it; auditors and
everyone else only read what they may see; restricted features stay inside the team and oversight."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from registry.choices import DataClassification, RiskTier
from registry.models import AIFeature, AIFeatureGroupObjectPermission, AuditEvent, Evaluation, FeatureVersion
from registry.permissions import can_edit_feature, feature_share_with_group
from registry.selectors import features_visible_to
from registry.services import evaluation_record, feature_create, feature_update, version_create
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    UserFactory,
    VersionFactory,
)

NOT_EDITORS = ["other_product_owner", "support_agent", "security_reviewer", "legal_reviewer", "auditor", "outsider"]


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", name="Claims triage", team=team)


@pytest.fixture
def restricted_feature(team):
    return FeatureFactory(slug="fraud-signals", name="Fraud signals", team=team, restricted=True)


def test_a_restricted_features_owners_must_be_able_to_see_it(governance_admin, team, product_owner, outsider):
    """Owners are told about the feature (incidents, approvals): handing it to someone who cannot see it
    would leak it through their notices."""
    secret = FeatureFactory(slug="kyc-check", team=team, restricted=True, accountable_owner=product_owner)

    with pytest.raises(ValidationError) as refused:
        feature_update(actor=governance_admin, feature=secret, reason="New on-call.", incident_owner=outsider)

    assert set(refused.value.message_dict) == {"incident_owner"}
    assert AIFeature.objects.get(pk=secret.pk).incident_owner == product_owner


def fresh(user):
    """The user as the next request would load it: no cached roles, teams or permissions."""
    return get_user_model().objects.get(pk=user.pk)


def registration(team, owner, slug="claims-triage"):
    return {
        "slug": slug,
        "name": slug.replace("-", " ").capitalize(),
        "purpose": "Routes incoming claims to the right handler.",
        "team": team,
        "accountable_owner": owner,
        "incident_owner": owner,
        "risk_tier": RiskTier.HIGH,
        "intended_uses": "Suggesting a queue for a claim.",
        "disallowed_uses": "Rejecting claims.",
        "data_classification": DataClassification.PERSONAL,
    }


# --- Registering a feature ---------------------------------------------------------------------------


def test_a_team_member_registers_a_feature_that_their_team_can_edit(product_owner, ml_engineer, team, eu):
    feature = feature_create(actor=product_owner, regions=[eu], **registration(team, product_owner))

    stored = AIFeature.objects.get(slug="claims-triage")
    assert stored == feature
    assert stored.team == team
    assert stored.created_by == product_owner
    assert can_edit_feature(fresh(ml_engineer), stored)


def test_a_member_of_another_team_cannot_register_a_feature_for_it(other_product_owner, team, eu):
    with pytest.raises(PermissionDenied):
        feature_create(actor=other_product_owner, regions=[eu], **registration(team, other_product_owner))

    assert not AIFeature.objects.exists()
    assert not AuditEvent.objects.exists()


def test_governance_registers_a_feature_for_any_team(governance_admin, product_owner, team, other_team, eu):
    for owning_team, slug in ((team, "claims-triage"), (other_team, "payment-disputes")):
        feature_create(actor=governance_admin, regions=[eu], **registration(owning_team, product_owner, slug))

    assert dict(AIFeature.objects.values_list("slug", "team__slug")) == {
        "claims-triage": "claims",
        "payment-disputes": "payments",
    }


@pytest.mark.parametrize("persona", ["auditor", "outsider", "support_agent", "security_reviewer"])
def test_people_outside_the_team_and_governance_cannot_register_features(request, persona, product_owner, team, eu):
    actor = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        feature_create(actor=actor, regions=[eu], **registration(team, product_owner))

    assert not AIFeature.objects.exists()


def test_an_auditor_who_belongs_to_a_team_cannot_register_features_for_it(team, product_owner, eu):
    auditor_in_team = UserFactory(username="aude-in-claims", roles=["auditor"], teams=[team])

    with pytest.raises(PermissionDenied):
        feature_create(actor=auditor_in_team, regions=[eu], **registration(team, product_owner))


# --- Changing a feature ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "governance_admin"])
def test_the_owning_team_and_governance_change_a_feature(request, persona, feature):
    actor = request.getfixturevalue(persona)

    feature_update(actor=actor, feature=feature, reason="Scope now includes motor claims.", risk_tier=RiskTier.HIGH)

    assert AIFeature.objects.get(pk=feature.pk).risk_tier == RiskTier.HIGH
    event = AuditEvent.objects.get(action="feature.updated")
    assert event.actor == actor
    assert event.payload["changes"]["risk_tier"] == [RiskTier.MEDIUM, RiskTier.HIGH]
    assert event.payload["reason"] == "Scope now includes motor claims."


@pytest.mark.parametrize("persona", NOT_EDITORS)
def test_nobody_else_changes_a_feature(request, persona, feature):
    actor = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        feature_update(actor=actor, feature=feature, reason="Looks wrong to me.", name="Renamed by a stranger")

    assert AIFeature.objects.get(pk=feature.pk).name == "Claims triage"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_change_without_a_reason_is_refused(product_owner, feature, reason):
    with pytest.raises(ValidationError) as refused:
        feature_update(actor=product_owner, feature=feature, reason=reason, name="Claims routing")

    assert "reason" in refused.value.message_dict
    assert AIFeature.objects.get(pk=feature.pk).name == "Claims triage"


def test_handing_a_feature_to_another_team_moves_the_edit_grant(
    governance_admin, product_owner, ml_engineer, other_product_owner, other_team, team, restricted_feature
):
    feature_update(
        actor=governance_admin,
        feature=restricted_feature,
        reason="Payments now runs fraud.",
        team=other_team,
        accountable_owner=other_product_owner,
        incident_owner=other_product_owner,
    )

    stored = AIFeature.objects.get(pk=restricted_feature.pk)
    assert stored.team == other_team
    assert not can_edit_feature(fresh(product_owner), stored)
    assert not can_edit_feature(fresh(ml_engineer), stored)
    assert can_edit_feature(fresh(other_product_owner), stored)
    assert not features_visible_to(fresh(product_owner)).filter(pk=stored.pk).exists()
    assert features_visible_to(fresh(other_product_owner)).filter(pk=stored.pk).exists()
    assert not AIFeatureGroupObjectPermission.objects.filter(group=team.group, content_object=stored).exists()
    event = AuditEvent.objects.get(action="feature.updated")
    assert event.payload["changes"]["team"] == ["Claims", "Payments"]


def test_a_team_member_cannot_hand_a_feature_to_a_team_they_are_not_in(product_owner, other_team, team, feature):
    with pytest.raises(PermissionDenied):
        feature_update(actor=product_owner, feature=feature, reason="Not ours any more.", team=other_team)

    stored = AIFeature.objects.get(pk=feature.pk)
    assert stored.team == team
    assert can_edit_feature(fresh(product_owner), stored)


# --- Versions and evidence follow the same rule ------------------------------------------------------


@pytest.fixture
def pins(db):
    return {"model": CatalogModelFactory(), "prompt": PromptVersionFactory(), "policy_pack": PolicyPackFactory()}


def test_the_owning_team_drafts_versions_and_records_evidence(ml_engineer, feature, pins):
    version = version_create(actor=ml_engineer, feature=feature, change_summary="First cut.", **pins)
    evaluation = evaluation_record(
        actor=ml_engineer,
        version=version,
        kind="benchmark",
        suite="triage-v1",
        metric="accuracy",
        score=0.91,
        threshold=0.85,
        run_at=timezone.now(),
    )

    assert version.feature == feature
    assert evaluation.version == version


@pytest.mark.parametrize("persona", NOT_EDITORS)
def test_nobody_else_drafts_a_version(request, persona, feature, pins):
    actor = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        version_create(actor=actor, feature=feature, change_summary="Drive-by change.", **pins)

    assert not FeatureVersion.objects.exists()


@pytest.mark.parametrize("persona", NOT_EDITORS)
def test_nobody_else_records_evidence(request, persona, feature):
    actor = request.getfixturevalue(persona)
    version = VersionFactory(feature=feature, number=1)

    with pytest.raises(PermissionDenied):
        evaluation_record(
            actor=actor,
            version=version,
            kind="benchmark",
            suite="triage-v1",
            metric="accuracy",
            score=0.99,
            threshold=0.85,
            run_at=timezone.now(),
        )

    assert not Evaluation.objects.exists()


# --- Who sees which features --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer", "governance_admin", "auditor"])
def test_a_restricted_feature_is_visible_to_its_team_and_oversight(request, persona, restricted_feature):
    viewer = request.getfixturevalue(persona)

    assert restricted_feature in features_visible_to(viewer)


@pytest.mark.parametrize(
    "persona", ["outsider", "support_agent", "security_reviewer", "legal_reviewer", "other_product_owner"]
)
def test_a_restricted_feature_is_invisible_to_everyone_else(request, persona, restricted_feature, feature):
    viewer = request.getfixturevalue(persona)

    visible = features_visible_to(viewer)
    assert restricted_feature not in visible
    assert feature in visible


@pytest.mark.parametrize(
    "persona",
    ["product_owner", "other_product_owner", "support_agent", "security_reviewer", "auditor", "outsider"],
)
def test_an_unrestricted_feature_is_visible_to_every_signed_in_user(request, persona, feature):
    viewer = request.getfixturevalue(persona)

    assert list(features_visible_to(viewer)) == [feature]


def test_an_anonymous_visitor_sees_no_features(feature, restricted_feature):
    assert not features_visible_to(AnonymousUser()).exists()


def test_a_deactivated_team_member_sees_no_features(product_owner, feature, restricted_feature):
    product_owner.is_active = False
    product_owner.save(update_fields=["is_active"])

    assert not features_visible_to(fresh(product_owner)).exists()


def test_sharing_a_restricted_feature_with_a_group_lets_its_members_read_but_not_edit(
    security_reviewer, restricted_feature
):
    board = Group.objects.create(name="external-review-board")
    security_reviewer.groups.add(board)

    feature_share_with_group(feature=restricted_feature, group=board)

    assert restricted_feature in features_visible_to(fresh(security_reviewer))
    assert not can_edit_feature(fresh(security_reviewer), restricted_feature)
