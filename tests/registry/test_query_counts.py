"""No N+1: every list page and API list, and the feature and version pages, cost the same number of
queries whatever the number of rows (and their regions, fallbacks, datasets and evaluations)."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registry.choices import DatasetUsage, VersionStatus
from registry.models import Region, VersionDataset, VersionFallback
from registry.services import audit_record
from tests.factories import (
    CatalogModelFactory,
    DatasetFactory,
    EvaluationFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    TeamFactory,
    UserFactory,
    VendorFactory,
    VersionFactory,
)

pytestmark = pytest.mark.slow  # query counts at two sizes of every list: `make test-fast` leaves them out

SMALL, LARGE = 2, 12
_serial = itertools.count(1)


def submitted(**fields):
    """A submitted version, submitted by its own user (so a missing select_related shows per row)."""
    return VersionFactory(
        status=VersionStatus.SUBMITTED,
        config_hash="a" * 64,
        submitted_at=timezone.now(),
        submitted_by=UserFactory(),
        **fields,
    )


def pin_links(version, *, fallbacks, datasets):
    for position, model in enumerate(fallbacks, start=1):
        VersionFallback.objects.create(version=version, model=model, position=position)
    for dataset, usage in zip(datasets, [DatasetUsage.TRAINING, DatasetUsage.EVALUATION]):
        VersionDataset.objects.create(version=version, dataset=dataset, usage=usage)


class Registry:
    """Grows every kind of row a list shows, each with the related rows a page or serializer follows."""

    def __init__(self, *, team, other_team):
        self.team = team
        self.other_team = other_team
        self.regions = list(Region.objects.filter(code__in=["eu", "us"]))

    def grow(self, count):
        for _ in range(count):
            self.add_one(next(_serial))

    def add_one(self, n):
        vendor = VendorFactory(slug=f"vendor-{n}")
        model = CatalogModelFactory(vendor=vendor, regions=self.regions)
        fallbacks = [CatalogModelFactory(vendor=VendorFactory(slug=f"fallback-vendor-{n}-{i}")) for i in range(2)]
        prompt = PromptVersionFactory(created_by=UserFactory())
        policy = PolicyPackFactory(allowed_regions=self.regions)
        datasets = [DatasetFactory(owner=TeamFactory(slug=f"data-team-{n}-{i}")) for i in range(2)]
        # Alternate: another team's feature, a restricted one of the viewer's team, an open one of it.
        owner_team, restricted = [(self.other_team, False), (self.team, True), (self.team, False)][n % 3]
        feature = FeatureFactory(slug=f"feature-{n}", team=owner_team, restricted=restricted, regions=self.regions)
        first = submitted(
            feature=feature, number=1, model=model, prompt=prompt, policy_pack=policy, author=UserFactory()
        )
        pin_links(first, fallbacks=fallbacks, datasets=datasets)
        second = VersionFactory(
            feature=feature,
            number=2,
            parent=first,
            model=model,
            prompt=prompt,
            policy_pack=policy,
            author=UserFactory(),
        )
        pin_links(second, fallbacks=fallbacks, datasets=datasets)
        EvaluationFactory(version=first, score=0.5, threshold=0.8, region=self.regions[0], recorded_by=UserFactory())
        Region.objects.create(code=f"region-{n}", name=f"Region {n}")
        with transaction.atomic():
            audit_record(actor=UserFactory(), action="test.recorded", target=feature, feature=feature, payload={"n": n})


@pytest.fixture
def registry(team, other_team):
    return Registry(team=team, other_team=other_team)


def count_queries(client, url):
    """Queries the read, less the read log's one insert (made only when restricted features are shown,
    so it depends on which rows a page holds; ``test_read_records`` bounds it to one per page)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    reads_logged = [
        query for query in captured.captured_queries if query["sql"].startswith('INSERT INTO "registry_readrecord"')
    ]
    assert len(reads_logged) <= 1, url
    return len(captured.captured_queries) - len(reads_logged), response


def rows_shown(response):
    if response.get("Content-Type", "").startswith("application/json"):
        return len(response.json()["results"])
    context = response.context
    if "object_list" in context:
        return len(context["object_list"])
    return len(context["recent_versions"]) + len(context["failing_evaluations"]) + len(context["drafts"])


def assert_constant(client, registry, url, django_assert_max_num_queries, max_queries, *, warm_after_growth=False):
    registry.grow(SMALL)
    client.get(url)  # warm per-process caches (content types) so both measurements are alike
    small, small_response = count_queries(client, url)
    registry.grow(LARGE - SMALL)
    if warm_after_growth:
        client.get(url)  # the shared readiness cache learns the new features once, as on any page
    large, large_response = count_queries(client, url)

    assert rows_shown(large_response) > rows_shown(small_response), "the larger registry must show more rows"
    assert large == small, f"{url}: {small} queries for {SMALL} rows but {large} for {LARGE}"
    with django_assert_max_num_queries(max_queries):
        client.get(url)


@pytest.mark.parametrize(
    "name, persona, max_queries",
    [
        ("registry:home", "product_owner", 16),  # with the live routes resolve refuses: four more; readiness: two
        ("registry:feature_list", "product_owner", 12),
        ("registry:vendor_list", "product_owner", 8),
        ("registry:model_list", "product_owner", 11),
        ("registry:prompt_list", "product_owner", 8),
        ("registry:policy_list", "product_owner", 10),
        ("registry:dataset_list", "product_owner", 9),
        # +5: the actions and object types the trail holds (its filters' choices), the most recent actors
        # and their names (the Who box's suggestions), and one per type of object the page links
        ("registry:audit_list", "auditor", 12),
    ],
)
def test_list_pages_cost_the_same_queries_for_2_or_12_rows(
    client, registry, request, django_assert_max_num_queries, name, persona, max_queries
):
    client.force_login(request.getfixturevalue(persona))

    assert_constant(
        client,
        registry,
        reverse(name),
        django_assert_max_num_queries,
        max_queries,
        warm_after_growth=name == "registry:home",  # an owner's readiness panel reads that cache
    )


@pytest.mark.parametrize(
    "endpoint, persona, max_queries",
    [
        ("features", "product_owner", 6),
        ("versions", "product_owner", 8),
        ("evaluations", "product_owner", 5),
        ("vendors", "product_owner", 4),
        ("models", "product_owner", 5),
        ("prompts", "product_owner", 5),  # +1: the roles, to hide what only hidden features use
        ("policy-packs", "product_owner", 5),
        ("datasets", "product_owner", 5),
        ("teams", "product_owner", 4),
        ("regions", "product_owner", 4),
        ("audit-events", "auditor", 5),
    ],
)
def test_api_lists_cost_the_same_queries_for_2_or_12_rows(
    client, registry, request, django_assert_max_num_queries, endpoint, persona, max_queries
):
    client.force_login(request.getfixturevalue(persona))

    assert_constant(client, registry, f"/api/v1/{endpoint}/", django_assert_max_num_queries, max_queries)


# --- One feature, one version ---------------------------------------------------------------


class FeatureHistory:
    """A feature whose versions and evaluations grow; each version pins fallbacks and datasets."""

    def __init__(self, *, team):
        self.regions = list(Region.objects.filter(code__in=["eu", "us"]))
        self.feature = FeatureFactory(slug="claims-triage", team=team, regions=self.regions)
        self.fallbacks = [CatalogModelFactory() for _ in range(2)]
        self.datasets = [DatasetFactory(owner=team) for _ in range(2)]
        self.first = self.add_version(parent=None)

    def add_version(self, *, parent):
        number = self.feature.versions.count() + 1
        version = submitted(
            feature=self.feature,
            number=number,
            parent=parent,
            author=UserFactory(),
            policy_pack=PolicyPackFactory(allowed_regions=self.regions),
        )
        pin_links(version, fallbacks=self.fallbacks, datasets=self.datasets)
        return version

    def add_evaluation(self, version):
        EvaluationFactory(
            version=version,
            region=self.regions[0],
            recorded_by=UserFactory(),
            run_at=timezone.now() - timedelta(minutes=self.feature.versions.count()),
        )


def assert_page_constant(client, url, grow, django_assert_max_num_queries, max_queries):
    grow(SMALL)
    client.get(url)
    small, _ = count_queries(client, url)
    grow(LARGE - SMALL)
    large, _ = count_queries(client, url)

    assert large == small, f"{url}: {small} queries when small but {large} when large"
    with django_assert_max_num_queries(max_queries):
        client.get(url)


def test_a_feature_page_costs_the_same_for_2_or_12_versions(client, team, product_owner, django_assert_max_num_queries):
    history = FeatureHistory(team=team)

    def grow(count):
        for _ in range(count):
            history.add_version(parent=history.feature.versions.order_by("-number").first())

    client.force_login(product_owner)
    assert_page_constant(
        client, history.feature.get_absolute_url(), grow, django_assert_max_num_queries, 33
    )  # one for a change waiting for governance, one for whether there is any evidence at all, one for the
    # regulatory profile (may the feature be promoted under the EU AI Act?), five for the monitoring plan's
    # section and who may export the decision log


def test_a_feature_page_costs_the_same_for_2_or_12_evaluations(
    client, team, product_owner, django_assert_max_num_queries
):
    history = FeatureHistory(team=team)
    second = history.add_version(parent=history.first)

    def grow(count):
        for index in range(count):
            history.add_evaluation([history.first, second][index % 2])

    client.force_login(product_owner)
    # 33: one is the freshness panel asking whether there is any evidence (none: "no evidence yet", not "fresh"),
    # one the regulatory profile, five the monitoring plan's section and who may export the decision log
    assert_page_constant(client, history.feature.get_absolute_url(), grow, django_assert_max_num_queries, 33)


def test_a_version_page_costs_the_same_for_2_or_12_evaluations(
    client, team, product_owner, django_assert_max_num_queries
):
    history = FeatureHistory(team=team)

    def grow(count):
        for _ in range(count):
            history.add_evaluation(history.first)

    client.force_login(product_owner)
    assert_page_constant(client, history.first.get_absolute_url(), grow, django_assert_max_num_queries, 22)


def test_a_version_page_costs_the_same_for_2_or_12_derived_versions(
    client, team, product_owner, django_assert_max_num_queries
):
    history = FeatureHistory(team=team)

    def grow(count):
        for _ in range(count):
            history.add_version(parent=history.first)  # experiments branching from the same base

    client.force_login(product_owner)
    assert_page_constant(client, history.first.get_absolute_url(), grow, django_assert_max_num_queries, 22)
