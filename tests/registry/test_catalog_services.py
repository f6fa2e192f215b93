"""The catalog a version may pin: who may add to it, how entries are numbered and hashed, and which
entries a version refuses (suspended models and vendors); plus how evidence decides pass or fail."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.exceptions import Conflict
from registry.choices import ModelStatus, VendorStatus
from registry.models import CatalogModel, Dataset, Evaluation, FeatureVersion, PolicyPack, PromptVersion, Vendor
from registry.services import (
    catalog_model_create,
    dataset_create,
    evaluation_record,
    policy_pack_create,
    prompt_version_create,
    vendor_create,
    version_create,
    version_retire,
    version_submit,
)
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    VendorFactory,
)

EVERYONE_ELSE = ["security_reviewer", "legal_reviewer", "support_agent", "auditor", "outsider"]


# --- Prompt versions ----------------------------------------------------------------------------------


def test_prompt_versions_are_numbered_per_name_and_hash_their_template(ml_engineer):
    templates = ["Sort this claim: {{ claim }}", "Sort this claim. Be brief: {{ claim }}", "Sort: {{ claim }}"]

    triage = [prompt_version_create(actor=ml_engineer, name="triage", template=text) for text in templates]
    summary = prompt_version_create(actor=ml_engineer, name="summary", template="Summarise: {{ claim }}")

    assert [prompt.version for prompt in triage] == [1, 2, 3]
    assert summary.version == 1
    for prompt, text in zip(triage, templates):
        stored = PromptVersion.objects.get(pk=prompt.pk)
        assert stored.template == text
        assert stored.content_hash == hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert stored.created_by == ml_engineer


def test_an_empty_prompt_template_is_refused(ml_engineer):
    with pytest.raises(ValidationError):
        prompt_version_create(actor=ml_engineer, name="triage", template="   \n")

    assert not PromptVersion.objects.exists()


def test_policy_packs_are_numbered_per_name(governance_admin, eu):
    first = policy_pack_create(actor=governance_admin, name="claims-eu", allowed_regions=[eu])
    second = policy_pack_create(actor=governance_admin, name="claims-eu", allowed_regions=[eu])

    assert (first.version, second.version) == (1, 2)
    assert list(second.allowed_regions.values_list("code", flat=True)) == ["eu"]


# --- Who may add what -----------------------------------------------------------------------------------


def _add_prompt(actor, world):
    prompt_version_create(actor=actor, name="triage", template="Sort this claim: {{ claim }}")


def _add_dataset(actor, world):
    dataset_create(
        actor=actor,
        name="claims-golden",
        version="2026-01",
        uri="s3://datasets/claims-golden",
        classification="confidential",
        owner=world["team"],
    )


def _add_vendor(actor, world):
    vendor_create(actor=actor, slug="mistral", name="Mistral", status=VendorStatus.UNDER_REVIEW)


def _add_model(actor, world):
    catalog_model_create(
        actor=actor,
        vendor=world["vendor"],
        identifier="claude-haiku-4",
        context_window=200000,
        regions=[world["eu"]],
    )


def _add_policy_pack(actor, world):
    policy_pack_create(actor=actor, name="claims-eu", allowed_regions=[world["eu"]])


CATALOG_ENTRIES = {
    "prompt": (_add_prompt, PromptVersion),
    "dataset": (_add_dataset, Dataset),
    "vendor": (_add_vendor, Vendor),
    "model": (_add_model, CatalogModel),
    "policy_pack": (_add_policy_pack, PolicyPack),
}


@pytest.fixture
def world(team, eu):
    return {"team": team, "eu": eu, "vendor": VendorFactory(slug="anthropic", name="Anthropic")}


def _allowed_cases():
    governance = [(entry, "governance_admin") for entry in CATALOG_ENTRIES]
    makers = [(entry, persona) for entry in ("prompt", "dataset") for persona in ("ml_engineer", "product_owner")]
    return governance + makers


def _refused_cases():
    everyone_else = [(entry, persona) for entry in CATALOG_ENTRIES for persona in EVERYONE_ELSE]
    makers = [
        (entry, persona) for entry in ("vendor", "model", "policy_pack") for persona in ("ml_engineer", "product_owner")
    ]
    return everyone_else + makers


@pytest.mark.parametrize("entry, persona", _allowed_cases())
def test_the_catalog_accepts_entries_from_those_who_own_them(request, world, entry, persona):
    add, model = CATALOG_ENTRIES[entry]
    before = model.objects.count()

    add(request.getfixturevalue(persona), world)

    assert model.objects.count() == before + 1


@pytest.mark.parametrize("entry, persona", _refused_cases())
def test_the_catalog_refuses_entries_from_everyone_else(request, world, entry, persona):
    add, model = CATALOG_ENTRIES[entry]
    before = model.objects.count()

    with pytest.raises(PermissionDenied):
        add(request.getfixturevalue(persona), world)

    assert model.objects.count() == before


def test_a_policy_pack_needs_a_region_where_data_may_be_processed(governance_admin):
    with pytest.raises(ValidationError) as refused:
        policy_pack_create(actor=governance_admin, name="claims-nowhere", allowed_regions=[])

    assert "allowed_regions" in refused.value.message_dict
    assert not PolicyPack.objects.filter(name="claims-nowhere").exists()


def test_a_model_needs_a_region_where_it_is_hosted(governance_admin):
    vendor = VendorFactory(slug="anthropic")

    with pytest.raises(ValidationError) as refused:
        catalog_model_create(
            actor=governance_admin, vendor=vendor, identifier="claude-haiku-4", context_window=200000, regions=[]
        )

    assert "regions" in refused.value.message_dict
    assert not CatalogModel.objects.filter(identifier="claude-haiku-4").exists()


# --- What a version may pin ------------------------------------------------------------------------------


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", team=team)


@pytest.fixture
def usable_model(db):
    return CatalogModelFactory(identifier="claude-sonnet-4", vendor=VendorFactory(slug="anthropic"))


@pytest.fixture
def draft_with(product_owner, feature):
    def draft(*, model, fallback_models=()):
        return version_create(
            actor=product_owner,
            feature=feature,
            change_summary="Pinning models.",
            model=model,
            fallback_models=fallback_models,
            prompt=PromptVersionFactory(),
            policy_pack=PolicyPackFactory(),
        )

    return draft


@pytest.fixture
def suspended_model(db):
    return CatalogModelFactory(identifier="withdrawn-1", status=ModelStatus.SUSPENDED)


@pytest.fixture
def model_of_suspended_vendor(db):
    return CatalogModelFactory(
        identifier="offshore-1", vendor=VendorFactory(slug="shady", status=VendorStatus.SUSPENDED)
    )


UNUSABLE = ["suspended_model", "model_of_suspended_vendor"]


@pytest.mark.parametrize("unusable", UNUSABLE)
def test_a_version_refuses_an_unusable_primary_model(request, draft_with, unusable):
    with pytest.raises(ValidationError) as refused:
        draft_with(model=request.getfixturevalue(unusable))

    assert "model" in refused.value.message_dict
    assert not FeatureVersion.objects.exists()


@pytest.mark.parametrize("unusable", UNUSABLE)
def test_a_version_refuses_an_unusable_fallback_model(request, draft_with, usable_model, unusable):
    with pytest.raises(ValidationError) as refused:
        draft_with(model=usable_model, fallback_models=[request.getfixturevalue(unusable)])

    assert "fallback_models" in refused.value.message_dict
    assert not FeatureVersion.objects.exists()


def test_a_deprecated_model_may_still_be_pinned(draft_with):
    deprecated = CatalogModelFactory(identifier="claude-3-opus", status=ModelStatus.DEPRECATED)

    assert draft_with(model=deprecated).model == deprecated


def test_a_draft_whose_model_was_suspended_since_cannot_be_submitted(product_owner, draft_with, usable_model):
    draft = draft_with(model=usable_model)
    CatalogModel.objects.filter(pk=usable_model.pk).update(status=ModelStatus.SUSPENDED)

    with pytest.raises(ValidationError):
        version_submit(actor=product_owner, version=draft)

    assert FeatureVersion.objects.get(pk=draft.pk).is_draft


def test_the_primary_model_cannot_also_be_a_fallback(draft_with, usable_model):
    with pytest.raises(ValidationError) as refused:
        draft_with(model=usable_model, fallback_models=[usable_model])

    assert "fallback_models" in refused.value.message_dict
    assert not FeatureVersion.objects.exists()


def test_a_fallback_is_listed_only_once(draft_with, usable_model):
    fallback = CatalogModelFactory(identifier="claude-haiku-4")

    with pytest.raises(ValidationError) as refused:
        draft_with(model=usable_model, fallback_models=[fallback, fallback])

    assert "fallback_models" in refused.value.message_dict
    assert not FeatureVersion.objects.exists()


def test_fallbacks_keep_the_order_they_were_given(draft_with, usable_model):
    first, second = CatalogModelFactory(identifier="gpt-5"), CatalogModelFactory(identifier="claude-haiku-4")

    version = draft_with(model=usable_model, fallback_models=[first, second])

    assert list(version.fallbacks.values_list("model__identifier", "position")) == [("gpt-5", 1), ("claude-haiku-4", 2)]


# --- Evidence -------------------------------------------------------------------------------------------


@pytest.fixture
def version(draft_with, usable_model):
    return draft_with(model=usable_model)


def record(actor, version, **overrides):
    fields = {
        "kind": "benchmark",
        "suite": "triage-v1",
        "metric": "accuracy",
        "score": 0.9,
        "threshold": 0.85,
        "run_at": timezone.now() - timedelta(hours=1),
    }
    return evaluation_record(actor=actor, version=version, **{**fields, **overrides})


@pytest.mark.parametrize(
    "score, threshold, higher_is_better, passed",
    [
        (0.90, 0.85, True, True),
        (0.85, 0.85, True, True),
        (0.80, 0.85, True, False),
        (0.02, 0.05, False, True),
        (0.05, 0.05, False, True),
        (0.08, 0.05, False, False),
    ],
)
def test_whether_evidence_passed_follows_from_score_threshold_and_direction(
    ml_engineer, version, score, threshold, higher_is_better, passed
):
    evaluation = record(ml_engineer, version, score=score, threshold=threshold, higher_is_better=higher_is_better)

    assert Evaluation.objects.get(pk=evaluation.pk).passed is passed


def test_evidence_from_the_future_is_refused(ml_engineer, version):
    with pytest.raises(ValidationError) as refused:
        record(ml_engineer, version, run_at=timezone.now() + timedelta(hours=1))

    assert "run_at" in refused.value.message_dict
    assert not Evaluation.objects.exists()


def test_a_clock_a_minute_ahead_is_tolerated(ml_engineer, version):
    record(ml_engineer, version, run_at=timezone.now() + timedelta(minutes=1))

    assert Evaluation.objects.count() == 1


def test_a_retired_version_takes_no_new_evidence(product_owner, ml_engineer, version):
    version_submit(actor=product_owner, version=version)
    version_retire(actor=product_owner, version=version, reason="Superseded.")

    with pytest.raises(Conflict):
        record(ml_engineer, version)

    assert not Evaluation.objects.exists()
