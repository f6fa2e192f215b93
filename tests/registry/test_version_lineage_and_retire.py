"""A new version descends from the latest one; a live version cannot be retired; API edits say what they do."""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from registry.models import Deployment
from registry.services import version_create, version_retire, version_submit
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", team=team)


@pytest.fixture
def pins(db):
    return {"model": CatalogModelFactory(), "prompt": PromptVersionFactory(), "policy_pack": PolicyPackFactory()}


def test_the_new_version_form_derives_from_the_latest_version_even_a_draft(client, product_owner, feature, pins):
    first = version_submit(
        actor=product_owner, version=version_create(actor=product_owner, feature=feature, change_summary="v1", **pins)
    )
    draft = version_create(actor=product_owner, feature=feature, change_summary="v2 draft", **pins)
    client.force_login(product_owner)

    form = client.get(reverse("registry:version_create", args=[feature.slug])).context["form"]

    assert form.initial["parent"] == draft and first != draft
    assert form.initial["change_summary"] == ""


def test_a_live_version_cannot_be_retired(product_owner, feature, pins, eu):
    version = version_submit(
        actor=product_owner, version=version_create(actor=product_owner, feature=feature, change_summary="v1", **pins)
    )
    Deployment.objects.create(
        feature=feature,
        environment="production",
        region=eu,
        version=version,
        updated_at=timezone.now(),
        updated_by=product_owner,
    )

    with pytest.raises(Conflict, match="is live"):
        version_retire(actor=product_owner, version=version, reason="superseded")


def test_api_patch_can_clear_the_parent_and_cannot_move_a_version(client, product_owner, feature, pins, other_team):
    version_create(actor=product_owner, feature=feature, change_summary="v1", **pins)
    second = version_create(actor=product_owner, feature=feature, change_summary="v2", **pins)
    elsewhere = FeatureFactory(slug="elsewhere", team=feature.team)
    client.force_login(product_owner)

    cleared = client.patch(f"/api/v1/versions/{second.pk}/", {"parent": None}, content_type="application/json")
    moved = client.patch(f"/api/v1/versions/{second.pk}/", {"feature": elsewhere.slug}, content_type="application/json")

    assert cleared.status_code == 200 and cleared.json()["parent"] is None
    assert moved.status_code == 400 and "feature" in moved.json()
    second.refresh_from_db()
    assert second.parent is None and second.feature == feature
