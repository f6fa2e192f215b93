"""A small world for drills: two vendors, three features live in production.

- claims-triage (high risk, Claims): primary acme/atlas (eu, us), fallback bolt/breeze (eu only); live in eu and us.
- fraud-scoring (restricted, Payments): acme/atlas with no fallback; live in eu.
- care-bot (Claims): bolt/breeze only; live in eu.

So "acme unavailable" moves claims-triage eu to the other vendor's fallback, leaves claims-triage us and
fraud-scoring eu without a route, and leaves care-bot alone.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from registry.models import Deployment, VersionFallback
from tests.conftest import forget_caches
from tests.factories import (
    CatalogModelFactory,
    EvaluationFactory,
    FeatureFactory,
    PolicyPackFactory,
    RegionFactory,
    VendorFactory,
    VersionFactory,
)

PRODUCTION_EVIDENCE = ("benchmark", "safety", "privacy_review")


@pytest.fixture
def gates(db):
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)


def live_version(feature, model, *, regions, fallbacks=(), policy=None, by, evidence_days_ago=10):
    version = VersionFactory(
        feature=feature,
        model=model,
        status="submitted",
        config_hash="c" * 64,
        submitted_at=timezone.now() - timedelta(days=20),
        policy_pack=policy or PolicyPackFactory(allowed_regions=regions),
    )
    for position, fallback in enumerate(fallbacks, start=1):
        VersionFallback.objects.create(version=version, model=fallback, position=position)
    for kind in PRODUCTION_EVIDENCE:
        EvaluationFactory(version=version, kind=kind, run_at=timezone.now() - timedelta(days=evidence_days_ago))
    for region in regions:
        Deployment.objects.create(
            feature=feature,
            environment="production",
            region=region,
            version=version,
            updated_at=timezone.now() - timedelta(days=5),
            updated_by=by,
        )
    return version


@pytest.fixture
def world(db, gates, eu, us, team, other_team, governance_admin):
    uk = RegionFactory(code="uk", name="United Kingdom")
    acme, bolt = VendorFactory(slug="acme", name="Acme AI"), VendorFactory(slug="bolt", name="Bolt Labs")
    atlas = CatalogModelFactory(vendor=acme, identifier="atlas", regions=[eu, us])
    breeze = CatalogModelFactory(vendor=bolt, identifier="breeze", regions=[eu])
    claims = FeatureFactory(slug="claims-triage", name="Claims triage", team=team, risk_tier="high", regions=[eu, us])
    fraud = FeatureFactory(slug="fraud-scoring", name="Fraud scoring", team=other_team, restricted=True, regions=[eu])
    care = FeatureFactory(slug="care-bot", name="Care bot", team=team, regions=[eu])
    versions = {
        "claims": live_version(claims, atlas, regions=[eu, us], fallbacks=[breeze], by=governance_admin),
        "fraud": live_version(fraud, atlas, regions=[eu], by=governance_admin),
        "care": live_version(care, breeze, regions=[eu], by=governance_admin),
    }
    return {
        "eu": eu,
        "us": us,
        "uk": uk,
        "acme": acme,
        "bolt": bolt,
        "atlas": atlas,
        "breeze": breeze,
        "claims": claims,
        "fraud": fraud,
        "care": care,
        "versions": versions,
    }


def add_features(world, count, *, by, prefix="extra"):
    """``count`` more features through acme/atlas with bolt/breeze as fallback, live in eu and us."""
    for n in range(count):
        feature = FeatureFactory(slug=f"{prefix}-{n}", name=f"Extra {n}", regions=[world["eu"], world["us"]])
        live_version(feature, world["atlas"], regions=[world["eu"], world["us"]], fallbacks=[world["breeze"]], by=by)


def resolve_answers(user, world):
    """Every production answer of the world, computed afresh (no cache), less the per-request token and time."""
    import json

    from routing.services import resolve

    forget_caches()
    answers = {}
    for slug, region in (("claims-triage", "eu"), ("claims-triage", "us"), ("fraud-scoring", "eu"), ("care-bot", "eu")):
        answer = resolve(user=user, feature_slug=slug, region_code=region)
        body = json.loads(answer.body)
        body.pop("decision"), body.pop("resolved_at")
        answers[(slug, region)] = (answer.status, body)
    return answers
