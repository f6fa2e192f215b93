"""The version pages: drafting a version through the form, confirming before submitting, refusing
to edit a submitted version, attaching evaluations, and comparing two versions side by side."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from registry.choices import DatasetUsage, ModelStatus, VersionStatus
from registry.models import AuditEvent, Evaluation, FeatureVersion, Region
from registry.services import version_create, version_submit
from tests.factories import CatalogModelFactory, DatasetFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory

TOOLS = [{"name": "crm.lookup", "scopes": ["read"]}, {"name": "claims.assign", "scopes": ["write"]}]
PARAMETERS = {"temperature": 0.2, "max_tokens": 800}


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", name="Claims triage", team=team)


@pytest.fixture
def catalog(team):
    return {
        "model": CatalogModelFactory(identifier="primary-model"),
        "fallback_1": CatalogModelFactory(identifier="first-fallback"),
        "fallback_2": CatalogModelFactory(identifier="second-fallback"),
        "prompt": PromptVersionFactory(name="triage-prompt"),
        "prompt_2": PromptVersionFactory(name="triage-prompt", version=2, template="Be brief. {{ question }}"),
        "policy": PolicyPackFactory(name="claims-policy"),
        "training": DatasetFactory(name="claims-history", owner=team),
        "evaluation": DatasetFactory(name="claims-golden-set", owner=team),
    }


def version_form_data(catalog, **overrides):
    data = {
        "model": catalog["model"].pk,
        "fallback_1": catalog["fallback_1"].pk,
        "fallback_2": catalog["fallback_2"].pk,
        "fallback_3": "",
        "prompt": catalog["prompt"].pk,
        "policy_pack": catalog["policy"].pk,
        "retrieval_index": "claims-kb-2026-10",
        "tools": json.dumps(TOOLS),
        "parameters": json.dumps(PARAMETERS),
        "training_datasets": [catalog["training"].pk],
        "evaluation_datasets": [catalog["evaluation"].pk],
        "retrieval_datasets": [],
        "parent": "",
        "change_summary": "First version: routes claims with a fallback chain.",
    }
    data.update(overrides)
    return data


def draft(feature, catalog, actor, **overrides):
    arguments = {
        "model": catalog["model"],
        "prompt": catalog["prompt"],
        "policy_pack": catalog["policy"],
        "change_summary": "A version.",
    }
    arguments.update(overrides)
    return version_create(actor=actor, feature=feature, **arguments)


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


# --- Drafting ---------------------------------------------------------------------------------


def test_the_version_form_creates_a_draft_with_everything_it_pins(client, feature, catalog, ml_engineer):
    client.force_login(ml_engineer)

    response = client.post(reverse("registry:version_create", args=[feature.slug]), version_form_data(catalog))

    version = FeatureVersion.objects.get(feature=feature)
    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    assert version.number == 1
    assert version.status == VersionStatus.DRAFT
    assert version.author == ml_engineer
    assert version.model == catalog["model"]
    fallbacks = [link.model for link in version.fallbacks.order_by("position")]
    assert fallbacks == [catalog["fallback_1"], catalog["fallback_2"]]
    assert version.tools == TOOLS
    assert version.parameters == PARAMETERS
    assert version.retrieval_index == "claims-kb-2026-10"
    assert {(link.dataset, link.usage) for link in version.dataset_links.all()} == {
        (catalog["training"], DatasetUsage.TRAINING),
        (catalog["evaluation"], DatasetUsage.EVALUATION),
    }
    assert AuditEvent.objects.get(action="version.created").source == "web"


def test_invalid_tools_json_shows_an_error_and_keeps_the_typed_text(client, feature, catalog, ml_engineer):
    client.force_login(ml_engineer)
    typed = '[{"name": "crm.lookup", "scopes": ["read"]'

    response = client.post(
        reverse("registry:version_create", args=[feature.slug]), version_form_data(catalog, tools=typed)
    )

    assert response.status_code == 200
    assert "not valid JSON" in response.context["form"].errors["tools"][0]
    assert escape(typed) in response.content.decode()
    assert not FeatureVersion.objects.exists()


def test_parameters_that_are_not_an_object_are_refused(client, feature, catalog, ml_engineer):
    client.force_login(ml_engineer)

    response = client.post(
        reverse("registry:version_create", args=[feature.slug]), version_form_data(catalog, parameters="[0.2]")
    )

    assert response.status_code == 200
    assert "parameters" in response.context["form"].errors
    assert not FeatureVersion.objects.exists()


def test_choosing_a_suspended_model_is_a_form_error_and_creates_nothing(client, feature, catalog, ml_engineer):
    suspended = CatalogModelFactory(identifier="recalled-model", status=ModelStatus.SUSPENDED)
    client.force_login(ml_engineer)

    response = client.post(
        reverse("registry:version_create", args=[feature.slug]), version_form_data(catalog, model=suspended.pk)
    )

    assert response.status_code == 200
    assert "suspended" in response.context["form"].errors["model"][0]
    assert not FeatureVersion.objects.exists()
    assert not AuditEvent.objects.filter(action="version.created").exists()


def test_the_new_version_form_starts_from_the_latest_version(client, feature, catalog, ml_engineer):
    draft(feature, catalog, ml_engineer, tools=TOOLS, fallback_models=[catalog["fallback_1"]])
    client.force_login(ml_engineer)

    form = client.get(reverse("registry:version_create", args=[feature.slug])).context["form"]

    assert form.initial["model"] == catalog["model"]
    assert form.initial["fallback_1"] == catalog["fallback_1"]
    assert form.initial["tools"] == TOOLS
    assert form.initial["change_summary"] == ""


def test_editing_a_draft_through_its_edit_page_saves_the_change(client, feature, catalog, ml_engineer):
    version = draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)

    response = client.post(
        reverse("registry:version_edit", args=[feature.slug, version.number]),
        version_form_data(catalog, prompt=catalog["prompt_2"].pk, change_summary="Shorter prompt."),
    )

    assert response.status_code == 302
    version.refresh_from_db()
    assert version.prompt == catalog["prompt_2"]
    assert version.change_summary == "Shorter prompt."


# --- Submitting -------------------------------------------------------------------------------


def test_opening_the_submit_page_asks_for_confirmation_and_does_not_submit(client, feature, catalog, ml_engineer):
    version = draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)

    response = client.get(reverse("registry:version_submit", args=[feature.slug, version.number]))

    assert response.status_code == 200
    assert b"locks this configuration" in response.content
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    assert version.config_hash == ""
    assert not AuditEvent.objects.filter(action="version.submitted").exists()


def test_confirming_the_submit_page_submits_and_locks_the_version(client, feature, catalog, ml_engineer):
    version = draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)

    response = client.post(reverse("registry:version_submit", args=[feature.slug, version.number]), follow=True)

    version.refresh_from_db()
    assert response.redirect_chain[-1][0] == version.get_absolute_url()
    assert version.status == VersionStatus.SUBMITTED
    assert len(version.config_hash) == 64
    assert version.submitted_by == ml_engineer
    assert any("Submitted" in message for message in messages_of(response))
    assert AuditEvent.objects.get(action="version.submitted").source == "web"


def test_the_edit_page_of_a_submitted_version_redirects_with_a_message_and_changes_nothing(
    client, feature, catalog, ml_engineer
):
    version = version_submit(actor=ml_engineer, version=draft(feature, catalog, ml_engineer))
    client.force_login(ml_engineer)
    url = reverse("registry:version_edit", args=[feature.slug, version.number])

    opened = client.get(url, follow=True)
    posted = client.post(url, version_form_data(catalog, prompt=catalog["prompt_2"].pk, change_summary="Sneaky."))

    assert opened.redirect_chain == [(version.get_absolute_url(), 302)]
    assert any("can no longer change" in message for message in messages_of(opened))
    assert posted.status_code == 302
    assert posted["Location"] == version.get_absolute_url()
    locked = FeatureVersion.objects.get(pk=version.pk)
    assert locked.prompt == catalog["prompt"]
    assert locked.change_summary == "A version."
    assert locked.config_hash == version.config_hash
    assert not AuditEvent.objects.filter(action="version.updated").exists()


# --- Evaluations ------------------------------------------------------------------------------


def evaluation_form_data(**overrides):
    data = {
        "kind": "benchmark",
        "suite": "claims-routing-v2",
        "metric": "accuracy",
        "score": "0.78",
        "threshold": "0.8",
        "higher_is_better": "on",
        "region": Region.objects.get(code="eu").pk,
        "language": "de-DE",
        "run_at": timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "artifact_url": "https://ci.example.test/runs/42",
        "notes": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    "score, threshold, higher_is_better, passed",
    [
        ("0.78", "0.8", "on", False),
        ("0.83", "0.8", "on", True),
        ("0.02", "0.05", None, True),  # e.g. a harmful-output rate: lower is better
        ("0.07", "0.05", None, False),
    ],
)
def test_the_evaluation_form_records_evidence_and_works_out_whether_it_passed(
    client, feature, catalog, ml_engineer, score, threshold, higher_is_better, passed
):
    version = draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)

    response = client.post(
        reverse("registry:evaluation_create", args=[feature.slug, version.number]),
        evaluation_form_data(score=score, threshold=threshold, higher_is_better=higher_is_better),
    )

    assert response.status_code == 302
    assert response["Location"] == version.get_absolute_url()
    evaluation = Evaluation.objects.get(version=version)
    assert evaluation.passed is passed
    assert evaluation.higher_is_better is (higher_is_better == "on")
    assert evaluation.recorded_by == ml_engineer
    assert evaluation.region.code == "eu"


def test_an_evaluation_that_ran_in_the_future_is_refused(client, feature, catalog, ml_engineer):
    version = draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)
    tomorrow = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client.post(
        reverse("registry:evaluation_create", args=[feature.slug, version.number]),
        evaluation_form_data(run_at=tomorrow),
    )

    assert response.status_code == 200
    assert "future" in response.context["form"].errors["run_at"][0]
    assert b"claims-routing-v2" in response.content  # what was typed stays
    assert not Evaluation.objects.exists()


# --- Comparing versions -----------------------------------------------------------------------


def test_the_diff_page_marks_the_rows_that_changed_between_two_versions(client, feature, catalog, ml_engineer):
    draft(feature, catalog, ml_engineer, parameters=PARAMETERS)
    draft(feature, catalog, ml_engineer, prompt=catalog["prompt_2"], parameters=PARAMETERS, change_summary="Shorter.")
    client.force_login(ml_engineer)

    response = client.get(reverse("registry:version_diff", args=[feature.slug]), {"a": 1, "b": 2})

    assert response.status_code == 200
    rows = {row["label"]: row for row in response.context["rows"]}
    assert rows["Prompt version"]["changed"] is True
    assert rows["Prompt version"]["left"].startswith("triage-prompt@1")
    assert rows["Prompt version"]["right"].startswith("triage-prompt@2")
    assert rows["Model"]["changed"] is False
    assert rows["Parameters"]["changed"] is False
    html = response.content.decode()
    assert html.count('class="is-changed"') == sum(row["changed"] for row in rows.values())
    assert '<tr class="is-changed"><td class="label">Prompt version' in html
    assert '<tr><td class="label">Model' in html


def test_the_diff_page_compares_the_latest_version_with_its_parent_by_default(client, feature, catalog, ml_engineer):
    draft(feature, catalog, ml_engineer)
    draft(feature, catalog, ml_engineer, prompt=catalog["prompt_2"])
    draft(feature, catalog, ml_engineer, prompt=catalog["prompt_2"], parameters=PARAMETERS)
    client.force_login(ml_engineer)

    response = client.get(reverse("registry:version_diff", args=[feature.slug]))

    assert (response.context["left"].number, response.context["right"].number) == (2, 3)
    assert [row["label"] for row in response.context["rows"] if row["changed"]] == ["Parameters", "Parent version"]


def test_the_diff_page_of_a_feature_with_one_version_says_there_is_nothing_to_compare(
    client, feature, catalog, ml_engineer
):
    draft(feature, catalog, ml_engineer)
    client.force_login(ml_engineer)

    response = client.get(reverse("registry:version_diff", args=[feature.slug]))

    assert response.status_code == 200
    assert b"nothing to compare yet" in response.content
    assert "rows" not in response.context


def test_the_diff_page_reports_a_version_that_does_not_exist(client, feature, catalog, ml_engineer):
    draft(feature, catalog, ml_engineer)
    draft(feature, catalog, ml_engineer, prompt=catalog["prompt_2"])
    client.force_login(ml_engineer)

    response = client.get(reverse("registry:version_diff", args=[feature.slug]), {"a": 1, "b": 9})

    assert response.status_code == 200
    assert response.context["error"] == "Choose two versions of this feature."
