"""A submitted version is a fixed configuration: it cannot change, it carries the hash of what it pins,
and every change is a new version numbered and parented after the feature's history."""

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import Conflict
from registry.choices import VersionStatus
from registry.models import AuditEvent, FeatureVersion
from registry.services import (
    configuration_hash,
    version_configuration,
    version_create,
    version_retire,
    version_submit,
    version_update,
)
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
)


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", team=team)


@pytest.fixture
def pins(db):
    return {
        "model": CatalogModelFactory(identifier="claude-sonnet-4"),
        "prompt": PromptVersionFactory(name="triage", template="Sort this claim: {{ claim }}"),
        "policy_pack": PolicyPackFactory(name="claims-eu"),
    }


@pytest.fixture
def draft(product_owner, feature, pins):
    return version_create(
        actor=product_owner,
        feature=feature,
        change_summary="First cut of claims triage.",
        tools=[{"name": "crm.lookup", "scopes": ["read"]}],
        parameters={"temperature": 0.2},
        **pins,
    )


@pytest.fixture
def submitted(product_owner, draft):
    return version_submit(actor=product_owner, version=draft)


def stored_state(version):
    """What a reader of the version sees: its pinned fields and links, fresh from the database."""
    row = FeatureVersion.objects.get(pk=version.pk)
    return {
        "status": row.status,
        "model": row.model_id,
        "prompt": row.prompt_id,
        "policy_pack": row.policy_pack_id,
        "retrieval_index": row.retrieval_index,
        "tools": row.tools,
        "parameters": row.parameters,
        "change_summary": row.change_summary,
        "fallbacks": list(row.fallbacks.values_list("model_id", "position")),
        "datasets": list(row.dataset_links.values_list("dataset_id", "usage")),
        "config_hash": row.config_hash,
        "submitted_at": row.submitted_at,
    }


def current_hash(version):
    return configuration_hash(version_configuration(FeatureVersion.objects.get(pk=version.pk)))


# --- A submitted or retired version cannot change -------------------------------------------


def test_it_refuses_to_change_a_submitted_version(product_owner, submitted):
    before = stored_state(submitted)

    with pytest.raises(Conflict, match="Create a new version"):
        version_update(
            actor=product_owner,
            version=submitted,
            prompt=PromptVersionFactory(name="triage", version=2, template="Sort it faster."),
            retrieval_index="claims-kb-2026-02",
            fallback_models=[CatalogModelFactory()],
            datasets=[(DatasetFactory(), "evaluation")],
        )

    assert stored_state(submitted) == before
    assert not AuditEvent.objects.filter(action="version.updated").exists()


def test_it_refuses_to_change_a_retired_version(product_owner, submitted):
    retired = version_retire(actor=product_owner, version=submitted, reason="Superseded by v2.")
    before = stored_state(retired)

    with pytest.raises(Conflict):
        version_update(actor=product_owner, version=retired, change_summary="Quietly rewritten history.")

    assert stored_state(retired) == before
    assert before["status"] == VersionStatus.RETIRED
    assert not AuditEvent.objects.filter(action="version.updated").exists()


def test_it_refuses_to_set_status_or_hash_through_an_edit(product_owner, draft):
    before = stored_state(draft)

    with pytest.raises(ValidationError):
        version_update(actor=product_owner, version=draft, status=VersionStatus.SUBMITTED, config_hash="0" * 64)

    assert stored_state(draft) == before


# --- Submitting locks the configuration and its hash --------------------------------------------


def test_submitting_records_status_time_submitter_and_configuration_hash(ml_engineer, draft):
    version = version_submit(actor=ml_engineer, version=draft)

    stored = FeatureVersion.objects.get(pk=draft.pk)
    assert stored.status == VersionStatus.SUBMITTED
    assert stored.submitted_at is not None
    assert stored.submitted_by == ml_engineer
    assert stored.config_hash == configuration_hash(version_configuration(stored))
    assert len(stored.config_hash) == 64
    assert version.config_hash == stored.config_hash


def test_the_hash_is_stable_for_the_same_configuration(submitted):
    assert current_hash(submitted) == submitted.config_hash
    assert current_hash(submitted) == current_hash(submitted)

    configuration = version_configuration(FeatureVersion.objects.get(pk=submitted.pk))
    reordered = dict(reversed(list(configuration.items())))
    assert configuration_hash(reordered) == submitted.config_hash


def test_listing_tools_and_scopes_in_another_order_is_not_a_change(product_owner, feature, pins):
    version = version_create(
        actor=product_owner,
        feature=feature,
        change_summary="Two tools.",
        tools=[{"name": "crm.lookup", "scopes": ["read", "write"]}, {"name": "docs.search", "scopes": ["read"]}],
        **pins,
    )
    hash_before = current_hash(version)
    events_before = AuditEvent.objects.count()

    version_update(
        actor=product_owner,
        version=version,
        tools=[{"name": "docs.search", "scopes": ["read"]}, {"name": "crm.lookup", "scopes": ["write", "read"]}],
    )

    assert current_hash(version) == hash_before
    assert AuditEvent.objects.count() == events_before


PINNED_CHANGES = {
    "prompt": lambda draft: {"prompt": PromptVersionFactory(name="triage", version=2, template="Sort it.")},
    "model": lambda draft: {"model": CatalogModelFactory(identifier="gpt-5")},
    "policy_pack": lambda draft: {"policy_pack": PolicyPackFactory(name="claims-eu", version=2)},
    "retrieval_index": lambda draft: {"retrieval_index": "claims-kb-2026-02"},
    "tool": lambda draft: {"tools": [*draft.tools, {"name": "docs.search", "scopes": ["read"]}]},
    "tool scopes": lambda draft: {"tools": [{"name": "crm.lookup", "scopes": ["read", "write"]}]},
    "parameters": lambda draft: {"parameters": {"temperature": 0.7}},
    "fallback_models": lambda draft: {"fallback_models": [CatalogModelFactory(identifier="claude-haiku-4")]},
    "datasets": lambda draft: {"datasets": [(DatasetFactory(name="claims-golden"), "evaluation")]},
}


@pytest.mark.parametrize("element", PINNED_CHANGES)
def test_the_hash_changes_when_any_pinned_element_differs(product_owner, draft, element):
    hash_before = current_hash(draft)

    version_update(actor=product_owner, version=draft, **PINNED_CHANGES[element](draft))

    assert current_hash(draft) != hash_before


def test_two_versions_pinning_different_prompts_have_different_hashes(product_owner, feature, pins, submitted):
    second = version_create(
        actor=product_owner,
        feature=feature,
        change_summary="Tighter prompt.",
        **{**pins, "prompt": PromptVersionFactory(name="triage", version=2, template="Sort it.")},
    )
    second = version_submit(actor=product_owner, version=second)

    assert second.config_hash != submitted.config_hash


def test_a_version_pinning_the_same_configuration_again_has_the_same_hash(product_owner, feature, pins, submitted):
    """The hash says what runs, not which version it is: a re-release of v1's pins matches v1's hash."""
    again = version_create(
        actor=product_owner,
        feature=feature,
        change_summary="Back to exactly what v1 ran.",
        tools=[{"name": "crm.lookup", "scopes": ["read"]}],
        parameters={"temperature": 0.2},
        **pins,
    )
    again = version_submit(actor=product_owner, version=again)

    assert again.number == 2 and again.parent_id == submitted.pk
    assert again.config_hash == submitted.config_hash


def test_a_second_submit_is_refused(product_owner, submitted):
    before = stored_state(submitted)

    with pytest.raises(Conflict):
        version_submit(actor=product_owner, version=submitted)

    assert stored_state(submitted) == before
    assert AuditEvent.objects.filter(action="version.submitted").count() == 1


# --- Numbering and lineage ---------------------------------------------------------------------------


def test_versions_are_numbered_one_two_three_per_feature(product_owner, team, feature, pins):
    sibling = FeatureFactory(slug="claims-summary", team=team)

    first, second, third = (
        version_create(actor=product_owner, feature=feature, change_summary=f"Change {n}.", **pins) for n in range(3)
    )
    of_sibling = version_create(actor=product_owner, feature=sibling, change_summary="First.", **pins)

    assert [first.number, second.number, third.number] == [1, 2, 3]
    assert of_sibling.number == 1


def test_a_new_version_descends_from_the_previous_one_unless_told_otherwise(product_owner, feature, pins):
    first = version_create(actor=product_owner, feature=feature, change_summary="First.", **pins)
    second = version_create(actor=product_owner, feature=feature, change_summary="Second.", **pins)
    third = version_create(actor=product_owner, feature=feature, change_summary="Second again.", **pins)
    branch = version_create(actor=product_owner, feature=feature, change_summary="Back to v1.", parent=first, **pins)

    assert first.parent is None
    assert second.parent == first
    assert third.parent == second
    assert branch.number == 4
    assert branch.parent == first


def test_it_refuses_a_parent_from_another_feature(product_owner, team, feature, pins):
    elsewhere = version_create(
        actor=product_owner, feature=FeatureFactory(slug="claims-summary", team=team), change_summary="First.", **pins
    )

    with pytest.raises(ValidationError) as refused:
        version_create(actor=product_owner, feature=feature, change_summary="Borrowed.", parent=elsewhere, **pins)

    assert "parent" in refused.value.message_dict
    assert not feature.versions.exists()


def test_an_edit_cannot_reparent_a_draft_onto_another_feature(product_owner, team, draft, pins):
    elsewhere = version_create(
        actor=product_owner, feature=FeatureFactory(slug="claims-summary", team=team), change_summary="First.", **pins
    )

    with pytest.raises(ValidationError) as refused:
        version_update(actor=product_owner, version=draft, parent=elsewhere)

    assert "parent" in refused.value.message_dict
    assert FeatureVersion.objects.get(pk=draft.pk).parent is None


# --- Drafts may change, and every change is in the audit trail -------------------------------------


def test_draft_edits_are_recorded_in_the_audit_trail_with_old_and_new_values(ml_engineer, draft, pins):
    old_prompt = version_configuration(draft)["prompt"]
    new_prompt = PromptVersionFactory(name="triage", version=2, template="Sort it.")

    version_update(
        actor=ml_engineer,
        version=draft,
        prompt=new_prompt,
        retrieval_index="claims-kb-2026-02",
        change_summary="Shorter prompt, with retrieval.",
    )

    event = AuditEvent.objects.get(action="version.updated")
    assert event.actor == ml_engineer
    assert event.object_id == str(draft.pk)
    assert event.payload["changes"]["prompt"] == [
        old_prompt,
        {"name": "triage", "version": 2, "content_hash": new_prompt.content_hash},
    ]
    assert event.payload["changes"]["retrieval_index"] == ["", "claims-kb-2026-02"]
    assert set(event.payload["changes"]) == {"prompt", "retrieval_index"}
    assert event.payload["change_summary"] == "Shorter prompt, with retrieval."
    stored = FeatureVersion.objects.get(pk=draft.pk)
    assert (stored.prompt, stored.retrieval_index) == (new_prompt, "claims-kb-2026-02")
