"""Ownership fields accept only people who can hold the job: a feature's accountable and incident owners
are active people with a team or a role, never an auditor or an outsider; a dataset belongs to one of its
creator's teams unless governance creates it. Pages offer only those; the API and services refuse others
with a clear error."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from registry.choices import DataClassification, RiskTier
from registry.forms import DatasetForm, FeatureForm
from registry.models import AIFeature, Dataset
from registry.services import (
    api_token_create,
    dataset_create,
    feature_create,
    feature_update,
)
from tests.factories import FeatureFactory


def as_user(user):
    _, raw = api_token_create(actor=user, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def registration(team, owner, incident_owner=None):
    return {
        "slug": "claims-triage",
        "name": "Claims triage",
        "purpose": "Routes claims.",
        "team": team,
        "accountable_owner": owner,
        "incident_owner": incident_owner or owner,
        "risk_tier": RiskTier.HIGH,
        "intended_uses": "Suggesting a queue.",
        "disallowed_uses": "Rejecting claims.",
        "data_classification": DataClassification.PERSONAL,
    }


@pytest.mark.parametrize("persona", ["auditor", "outsider"])
def test_a_feature_cannot_be_registered_with_an_owner_who_cannot_hold_the_job(
    request, persona, product_owner, team, eu
):
    unfit = request.getfixturevalue(persona)

    with pytest.raises(ValidationError) as refused:
        feature_create(actor=product_owner, regions=[eu], **registration(team, unfit))

    assert set(refused.value.message_dict) == {"accountable_owner", "incident_owner"}
    assert unfit.username in refused.value.message_dict["accountable_owner"][0]
    assert not AIFeature.objects.exists()


def test_a_deactivated_user_cannot_be_an_owner(product_owner, ml_engineer, team, eu):
    feature = FeatureFactory(team=team, accountable_owner=product_owner)
    ml_engineer.is_active = False
    ml_engineer.save()

    with pytest.raises(ValidationError) as refused:
        feature_update(actor=product_owner, feature=feature, reason="New on-call.", incident_owner=ml_engineer)

    assert "deactivated" in refused.value.message_dict["incident_owner"][0]


def test_people_with_a_role_or_a_team_can_hold_it(product_owner, security_reviewer, ml_engineer, team, eu):
    feature = feature_create(actor=product_owner, regions=[eu], **registration(team, security_reviewer, ml_engineer))

    assert (feature.accountable_owner, feature.incident_owner) == (security_reviewer, ml_engineer)


@pytest.mark.parametrize("persona", ["auditor", "outsider"])
def test_the_api_refuses_an_owner_who_cannot_hold_the_job(request, persona, product_owner, team):
    unfit = request.getfixturevalue(persona)
    feature = FeatureFactory(slug="claims-triage", team=team, accountable_owner=product_owner)

    answer = as_user(product_owner).patch(
        "/api/v1/features/claims-triage/",
        {"incident_owner": unfit.username, "change_reason": "New on-call."},
        format="json",
    )

    assert answer.status_code == 400
    assert unfit.username in answer.json()["incident_owner"][0]
    assert AIFeature.objects.get(pk=feature.pk).incident_owner == product_owner


def test_the_feature_form_offers_only_people_who_can_hold_the_job(
    product_owner, ml_engineer, security_reviewer, auditor, outsider, governance_admin
):
    offered = set(FeatureForm(user=product_owner).fields["accountable_owner"].queryset)

    assert {product_owner, ml_engineer, security_reviewer, governance_admin} <= offered
    assert not {auditor, outsider} & offered


def test_an_existing_owner_stays_choosable_so_other_edits_still_save(product_owner, team, outsider):
    """An owner set before this rule (now unfit) does not block an unrelated edit; changing to them does."""
    feature = FeatureFactory(team=team, accountable_owner=outsider)

    form = FeatureForm(user=product_owner, instance=feature)
    assert outsider in form.fields["incident_owner"].queryset
    feature_update(actor=product_owner, feature=feature, reason="Clearer name.", name="Renamed")
    assert AIFeature.objects.get(pk=feature.pk).name == "Renamed"


# --- Datasets --------------------------------------------------------------------------------------


def dataset(owner, name="claims-eval"):
    return {
        "name": name,
        "version": "2026-01",
        "uri": f"s3://data/{name}",
        "classification": "internal",
        "owner": owner,
    }


def test_a_dataset_belongs_to_one_of_its_creators_teams(ml_engineer, team, other_team):
    with pytest.raises(ValidationError) as refused:
        dataset_create(actor=ml_engineer, **dataset(other_team))

    assert "owner" in refused.value.message_dict
    assert not Dataset.objects.exists()
    assert dataset_create(actor=ml_engineer, **dataset(team)).owner == team


def test_governance_may_name_any_team(governance_admin, other_team):
    assert dataset_create(actor=governance_admin, **dataset(other_team)).owner == other_team


def test_the_dataset_form_and_api_offer_and_accept_only_ones_own_teams(ml_engineer, team, other_team, client):
    assert list(DatasetForm(user=ml_engineer).fields["owner"].queryset) == [team]

    answer = as_user(ml_engineer).post(
        "/api/v1/datasets/", {**dataset("payments"), "owner": other_team.slug}, format="json"
    )

    assert answer.status_code == 400
    assert "one of your teams" in answer.json()["owner"][0]

    client.force_login(ml_engineer)
    page = client.post("/catalog/datasets/new/", {**dataset(other_team.pk)})
    assert page.status_code == 200 and not Dataset.objects.exists()
