"""The dashboard does not grow with the data (issue 22): the same queries for 2 features or 20 (live routes,
sign-offs, readiness), its readiness figures what every feature's checklist says, kept in the shared cache
and renewed by what renews the entries they are made of, and no trace of a restricted feature for one who
may not see it."""

import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from readiness import current
from readiness.checklist import readiness_many
from readiness.selectors import _summaries as summaries
from readiness.selectors import gaps, visible_gaps
from registry.choices import RISK_TIER_ORDER, RiskTier, VersionStatus
from registry.models import AIFeature, Deployment, Region
from registry.services import feature_update
from tests.conftest import forget_caches
from tests.factories import DeploymentFactory, FeatureFactory, VersionFactory
from tests.query_counts import count_queries

HOME = reverse("registry:home")
_tiers = itertools.cycle(RiskTier.values)


def _live_features(team, n, *, restricted=False):
    """``n`` features of ``team``, each with a submitted version live in production in eu."""
    eu = Region.objects.get_or_create(code="eu", defaults={"name": "Europe"})[0]
    made = []
    for _ in range(n):
        feature = FeatureFactory(team=team, risk_tier=next(_tiers), restricted=restricted, regions=[eu])
        version = VersionFactory(
            feature=feature, status=VersionStatus.SUBMITTED, config_hash="a" * 64, submitted_at=timezone.now()
        )
        DeploymentFactory(version=version, region=eu)
        made.append(feature)
    return made


def _warm_queries(client):
    """The queries of a visit once the shared cache holds what the page keeps there (the bench's p50)."""
    forget_caches()
    client.get(HOME)
    count, response = count_queries(client, HOME)
    return count, response


@pytest.mark.parametrize("persona", ["governance_admin", "ml_engineer"])
def test_the_home_page_costs_the_same_queries_for_2_or_20_features(client, team, other_team, persona, request):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    _live_features(team, 1)
    _live_features(other_team, 1, restricted=True)
    few, _response = _warm_queries(client)

    _live_features(team, 9)
    _live_features(other_team, 9, restricted=True)
    many, response = _warm_queries(client)

    assert many == few
    assert response.context["feature_total"] == AIFeature.objects.count() if persona == "governance_admin" else 10


def _slow_path():
    """Ready features per tier, from every feature's checklist computed now (no cache)."""
    found = {}
    for readiness in readiness_many(AIFeature.objects.all()):
        tier = found.setdefault(readiness.feature.risk_tier, [0, 0])
        tier[0] += 1
        tier[1] += not readiness.missing
    return found


def _home_tiers(client):
    response = client.get(HOME)
    panel = next(panel for panel in response.context["home_panels"] if "tiers" in panel["context"])["context"]
    posture = next(figure for figure in response.context["posture"] if figure["label"].endswith("features ready"))
    return panel, posture


def test_the_readiness_figures_are_every_checklists_and_follow_a_change(
    client, team, governance_admin, django_capture_on_commit_callbacks
):
    features = _live_features(team, 6)
    client.force_login(governance_admin)
    panel, posture = _home_tiers(client)
    expected = _slow_path()

    assert {row["label"]: (row["features"], row["ready"]) for row in panel["tiers"]} == {
        RiskTier(tier).label: (total, ready) for tier, (total, ready) in expected.items()
    }
    assert (panel["features"], panel["ready"]) == (6, sum(ready for _total, ready in expected.values()))
    assert (posture["value"], posture["label"]) == (panel["ready"], "of 6 features ready")

    # An audited change renews the feature's stamp: the kept table is not served again.
    top = RISK_TIER_ORDER[-1]
    feature = next(feature for feature in features if feature.risk_tier != top)
    with django_capture_on_commit_callbacks(execute=True):
        feature_update(actor=governance_admin, feature=feature, reason="Moved up.", risk_tier=top)
    panel, _posture = _home_tiers(client)
    expected = _slow_path()
    assert {row["label"]: (row["features"], row["ready"]) for row in panel["tiers"]} == {
        RiskTier(tier).label: (total, ready) for tier, (total, ready) in expected.items()
    }


def test_the_kept_table_is_the_one_computed_from_every_entry(team, governance_admin):
    _live_features(team, 4)
    kept = visible_gaps(user=governance_admin)  # computed, then kept
    assert visible_gaps(user=governance_admin) == kept
    assert kept == gaps(summaries(AIFeature.objects.order_by("name", "pk"))[0])


def test_a_deactivated_owner_shows_at_once_whatever_path_deactivated_them(team, governance_admin):
    feature = _live_features(team, 1)[0]
    before = visible_gaps(user=governance_admin)
    owner = feature.accountable_owner
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    # Saved as the admin would; the signal's renewal of who may ask waits for a commit that never comes here.

    after = visible_gaps(user=governance_admin)
    assert after["missing"]["accountable_owner"] == before["missing"]["accountable_owner"] + 1


def test_without_a_reachable_shared_cache_the_table_is_computed(team, governance_admin, monkeypatch):
    _live_features(team, 2)
    monkeypatch.setattr(current, "current_generation", lambda: None)
    assert current.table_key("all") is None
    assert visible_gaps(user=governance_admin)["features"] == 2


def test_people_who_see_different_restricted_features_never_share_a_table(
    team, other_team, ml_engineer, other_product_owner
):
    _live_features(team, 2, restricted=True)
    _live_features(other_team, 3, restricted=True)
    _live_features(other_team, 1)

    assert visible_gaps(user=ml_engineer)["features"] == 3  # the team's two, and the open one
    assert visible_gaps(user=other_product_owner)["features"] == 4
    assert visible_gaps(user=ml_engineer)["features"] == 3  # kept: the same again
