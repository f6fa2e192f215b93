"""Catalog entries that only restricted features use say what those features do (a prompt's text, a
dataset's URI): they are visible only to those who may see one of the features, in lists, pages, the API
and the version form. Unused entries, and entries an open feature uses, stay visible to everyone."""

import pytest
from rest_framework.test import APIClient

from registry.models import VersionDataset
from registry.services import api_token_create
from tests.factories import DatasetFactory, FeatureFactory, PromptVersionFactory, VersionFactory


@pytest.fixture
def catalog(team, other_team):
    secret_prompt = PromptVersionFactory(name="fraud-scoring-prompt", template="Score the payment for fraud.")
    shared_prompt = PromptVersionFactory(name="shared-prompt")
    unused_prompt = PromptVersionFactory(name="unused-prompt")
    secret_dataset = DatasetFactory(name="fraud-cases", uri="s3://secret/fraud-cases", owner=team)
    restricted = FeatureFactory(slug="fraud-scoring", team=team, restricted=True)
    secret_version = VersionFactory(feature=restricted, prompt=secret_prompt)
    VersionDataset.objects.create(version=secret_version, dataset=secret_dataset, usage="evaluation")
    VersionFactory(feature=restricted, prompt=shared_prompt)
    VersionFactory(feature=FeatureFactory(slug="open-one", team=other_team), prompt=shared_prompt)
    return {
        "secret_prompt": secret_prompt,
        "shared_prompt": shared_prompt,
        "unused_prompt": unused_prompt,
        "secret_dataset": secret_dataset,
    }


def api(user):
    _, raw = api_token_create(actor=user, user=user, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_entries_only_restricted_features_use_are_hidden_from_others(client, catalog, other_product_owner):
    client.force_login(other_product_owner)

    prompts = client.get("/catalog/prompts/").content.decode()
    assert "shared-prompt" in prompts and "unused-prompt" in prompts
    assert "fraud-scoring-prompt" not in prompts
    assert client.get(f"/catalog/prompts/{catalog['secret_prompt'].pk}/").status_code == 404
    assert client.get(f"/catalog/datasets/{catalog['secret_dataset'].pk}/").status_code == 404
    assert "fraud-cases" not in client.get("/catalog/datasets/").content.decode()

    machine = api(other_product_owner)
    assert "fraud-scoring-prompt" not in machine.get("/api/v1/prompts/").content.decode()
    assert machine.get(f"/api/v1/prompts/{catalog['secret_prompt'].pk}/").status_code == 404
    assert machine.get(f"/api/v1/datasets/{catalog['secret_dataset'].pk}/").status_code == 404
    form = client.get("/features/open-one/versions/new/")  # their own team's feature
    assert form.status_code == 200
    assert "fraud-scoring-prompt" not in form.content.decode() and "fraud-cases" not in form.content.decode()


def test_those_who_may_see_a_feature_using_them_see_them(client, catalog, ml_engineer, auditor):
    for user in (ml_engineer, auditor):
        client.force_login(user)
        assert client.get(f"/catalog/prompts/{catalog['secret_prompt'].pk}/").status_code == 200
        assert "fraud-cases" in client.get("/catalog/datasets/").content.decode()


def test_a_hidden_entry_cannot_be_pinned_through_the_api_and_answers_as_a_missing_one(
    catalog, other_product_owner, other_team
):
    open_version = VersionFactory(feature=FeatureFactory(slug="open-two", team=other_team))
    body = {
        "model": open_version.model.pk,
        "policy_pack": open_version.policy_pack.pk,
        "change_summary": "x",
        "feature": "open-two",
    }
    machine = api(other_product_owner)

    hidden = machine.post("/api/v1/versions/", {**body, "prompt": catalog["secret_prompt"].pk}, format="json")
    missing = machine.post("/api/v1/versions/", {**body, "prompt": 999999}, format="json")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.json()["prompt"] == [
        m.replace("999999", str(catalog["secret_prompt"].pk)) for m in missing.json()["prompt"]
    ]
