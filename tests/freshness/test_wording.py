"""The freshness panel of a feature or version with no evidence says there is none yet: no open finding
is not the same as fresh evidence."""

import pytest

from tests.factories import EvaluationFactory, FeatureFactory, VersionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bare(team, product_owner, eu):
    feature = FeatureFactory(slug="mail-sorter", name="Mail sorter", team=team, regions=[eu])
    return VersionFactory(feature=feature, number=1)


def test_a_version_without_evaluations_says_it_has_no_evidence_yet(client, bare, product_owner):
    client.force_login(product_owner)

    page = " ".join(client.get(bare.get_absolute_url()).content.decode().split())

    assert "No evidence yet: no evaluation has been recorded for this version" in page
    assert "Evidence is fresh" not in page and "no open findings" not in page


def test_a_feature_without_evaluations_says_so_on_its_page(client, bare, product_owner):
    client.force_login(product_owner)

    page = " ".join(client.get(bare.feature.get_absolute_url()).content.decode().split())

    assert "No evidence yet: no evaluation has been recorded for any version of this feature" in page
    assert "Evidence is fresh" not in page


def test_once_evidence_is_recorded_and_no_finding_is_open_it_reads_as_fresh(client, bare, product_owner):
    EvaluationFactory(version=bare)
    client.force_login(product_owner)

    page = " ".join(client.get(bare.get_absolute_url()).content.decode().split())

    assert "Evidence is fresh for this version: no open findings" in page and "No evidence yet" not in page
