"""Which versions depend on a catalog entry is one rule (``registry.selectors.versions_depending_on``):
the catalog page's usage table, the impact analysis and the route changes of a suspension all find
the same versions, and each reader only those of the features they may see."""

import pytest
from django.urls import reverse

from drills.impact import dependent_versions
from registry.models import VersionDataset
from registry.selectors import DEPENDENCY_KINDS, versions_depending_on
from routing.impact import SUSPEND, route_changes
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db

DEPENDENTS = {  # kind: the world's versions that depend on its entry
    "vendor": {"claims", "fraud"},  # acme: atlas, primary of both
    "model": {"claims", "care"},  # breeze: claims' fallback, care's primary
    "prompt": {"claims"},
    "policy": {"claims"},
    "dataset": {"claims", "fraud"},
}


@pytest.fixture
def dataset(world):
    dataset = DatasetFactory(name="claims-history")
    VersionDataset.objects.create(version=world["versions"]["claims"], dataset=dataset, usage="training")
    VersionDataset.objects.create(version=world["versions"]["fraud"], dataset=dataset, usage="evaluation")
    return dataset


def entry_and_page(world, dataset, kind):
    claims = world["versions"]["claims"]
    return {
        "vendor": (world["acme"], reverse("registry:vendor_detail", args=["acme"])),
        "model": (world["breeze"], reverse("registry:model_detail", args=[world["breeze"].pk])),
        "prompt": (claims.prompt, reverse("registry:prompt_detail", args=[claims.prompt.pk])),
        "policy": (claims.policy_pack, reverse("registry:policy_detail", args=[claims.policy_pack.pk])),
        "dataset": (dataset, reverse("registry:dataset_detail", args=[dataset.pk])),
    }[kind]


def test_the_rule_covers_every_kind_and_refuses_others(world):
    assert set(DEPENDENCY_KINDS) == set(DEPENDENTS)
    with pytest.raises(ValueError, match="Unknown kind"):
        versions_depending_on("region", world["eu"], user=None)


@pytest.mark.parametrize("persona", ["governance_admin", "product_owner"])
@pytest.mark.parametrize("kind", list(DEPENDENTS))
def test_every_reader_finds_the_same_dependent_versions(world, dataset, client, request, persona, kind):
    user = request.getfixturevalue(persona)
    entry, page = entry_and_page(world, dataset, kind)
    sees_fraud = persona == "governance_admin"  # fraud-scoring is restricted to the other team
    expected = {world["versions"][name].pk for name in DEPENDENTS[kind] if sees_fraud or name != "fraud"}

    assert set(versions_depending_on(kind, entry, user=user).values_list("pk", flat=True)) == expected
    assert set(dependent_versions(user=user, kind=kind, entry=entry).values_list("pk", flat=True)) == expected
    client.force_login(user)
    context = client.get(page).context
    if kind == "dataset":
        assert {link.version_id for link in context["links"]} == expected
    else:
        assert {version.pk for version in context["usage"]} == expected
    if kind in SUSPEND:
        changes = route_changes(**{kind: entry}, status=SUSPEND[kind], user=user)
        assert {change.facts.version_id for change in changes} == expected


def test_without_a_user_every_version_counts(world, dataset):
    every = {world["versions"][name].pk for name in DEPENDENTS["vendor"]}

    assert set(versions_depending_on("vendor", world["acme"], user=None).values_list("pk", flat=True)) == every
    assert (
        set(versions_depending_on("model", world["acme"].models.all(), user=None).values_list("pk", flat=True)) == every
    )
