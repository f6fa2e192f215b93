"""``route_check`` (the live routes resolve refuses now: the dashboard, the feature page, readiness) judges
plain rows, each combination of rules once, and decides in full only the routes it refuses: the same
routes, with the same words, as deciding every route in full."""

import pytest
from django.utils import timezone

from registry.choices import FeatureStatus, ModelStatus, VendorStatus
from registry.models import Deployment, VersionFallback
from routing.engine import decide, load_facts_many
from routing.previews import OFF, route_check
from tests.factories import (
    CatalogModelFactory,
    DeploymentFactory,
    FeatureFactory,
    PolicyPackFactory,
    RegionFactory,
    VendorFactory,
    VersionFactory,
)


def _every_route_decided(deployments):
    """What ``route_check`` answered before: every route's facts loaded in full and decided."""
    found = {}
    for facts in load_facts_many(deployments, now=timezone.now(), warnings=False):
        if facts.feature_status in OFF:
            continue
        decision = decide(facts)
        if not decision.ok:
            found[facts.deployment_id] = decision.refusal
    return found


@pytest.fixture
def routes(db):
    eu, us = RegionFactory(code="eu"), RegionFactory(code="us")
    both = CatalogModelFactory(regions=[eu, us])
    eu_only = CatalogModelFactory(regions=[eu])
    suspended = CatalogModelFactory(regions=[eu, us], status=ModelStatus.SUSPENDED)
    vendor_suspended = CatalogModelFactory(regions=[eu, us], vendor=VendorFactory(status=VendorStatus.SUSPENDED))
    anywhere, eu_policy = PolicyPackFactory(allowed_regions=[eu, us]), PolicyPackFactory(allowed_regions=[eu])

    def live(name, region, model, policy, *, fallbacks=(), status=FeatureStatus.ACTIVE):
        feature = FeatureFactory(slug=name, status=status, regions=[eu, us])
        version = VersionFactory(feature=feature, model=model, policy_pack=policy)
        for position, fallback in enumerate(fallbacks, start=1):
            VersionFallback.objects.create(version=version, model=fallback, position=position)
        return DeploymentFactory(version=version, region=region)

    return {
        "serves": live("serves", eu, both, anywhere),
        "residency": live("residency", us, both, eu_policy),
        "hosting": live("hosting", us, eu_only, anywhere),
        "fallback-serves": live("fallback-serves", us, eu_only, anywhere, fallbacks=[both]),
        "suspended": live("suspended", eu, suspended, anywhere),
        "paused": live("paused", eu, suspended, anywhere, status=FeatureStatus.PAUSED),
        "vendor-suspended": live("vendor-suspended", eu, vendor_suspended, anywhere, fallbacks=[eu_only]),
        "vendor-suspended-alone": live("vendor-suspended-alone", us, vendor_suspended, anywhere),
        "same-rules": live("same-rules", us, eu_only, anywhere),  # judged with "hosting"'s answer
    }


def test_the_same_routes_are_refused_with_the_same_words_as_deciding_every_route(routes):
    deployments = Deployment.objects.all()

    found = route_check(deployments)

    assert found == _every_route_decided(deployments)
    refused = {pk for pk in found}
    assert refused == {
        routes[name].pk for name in ("residency", "hosting", "suspended", "vendor-suspended-alone", "same-rules")
    }
    assert "policy pack does not allow data to be processed in us" in found[routes["residency"].pk]
    assert found[routes["hosting"].pk].startswith("No eligible route for hosting in us (production)")


def test_a_queryset_narrowed_to_some_routes_answers_for_those_only(routes):
    deployments = Deployment.objects.filter(pk__in=[routes["serves"].pk, routes["suspended"].pk])

    assert route_check(deployments) == _every_route_decided(deployments)
    assert set(route_check(deployments)) == {routes["suspended"].pk}


def test_nothing_refused_costs_no_full_load(routes, django_assert_max_num_queries):
    deployments = Deployment.objects.filter(pk__in=[routes["serves"].pk, routes["fallback-serves"].pk])

    with django_assert_max_num_queries(5):
        assert route_check(deployments) == {}
