"""The versions API lists by feature name, then newest version first, whatever order the features and
versions were created in: the order the index on feature names (registry migration 0008) serves a page of
without sorting every version."""

from tests.factories import FeatureFactory, VersionFactory

VERSIONS = "/api/v1/versions/"


def listed(response):
    assert response.status_code == 200
    return [(version["feature"], version["number"]) for version in response.json()["results"]]


def test_versions_come_by_feature_name_then_newest_first_page_after_page(client, team, product_owner):
    zulu = FeatureFactory(slug="zulu-support", name="Zulu support", team=team)  # created first, named last
    alpha = FeatureFactory(slug="alpha-search", name="Alpha search", team=team)
    middle = FeatureFactory(slug="a-middle", name="Middle answers", team=team)  # slug first, name in the middle
    for number in (1, 3, 2):
        for feature in (zulu, alpha, middle):
            VersionFactory(feature=feature, number=number)
    client.force_login(product_owner)

    first = listed(client.get(VERSIONS, {"page_size": 4}))
    rest = listed(client.get(VERSIONS, {"page_size": 4, "page": 2})) + listed(
        client.get(VERSIONS, {"page_size": 4, "page": 3})
    )

    assert first + rest == [
        ("alpha-search", 3),
        ("alpha-search", 2),
        ("alpha-search", 1),
        ("a-middle", 3),
        ("a-middle", 2),
        ("a-middle", 1),
        ("zulu-support", 3),
        ("zulu-support", 2),
        ("zulu-support", 1),
    ]
