"""Lists sort by clicking a column, and the API's ``ordering`` takes the same values: both ways, with the
filters kept, pages that never overlap, a bad value refused plainly, and nothing hidden revealed."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from registry.choices import RiskTier
from tests.factories import FeatureFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def features(team, other_team, product_owner):
    made = {
        "alpha": FeatureFactory(slug="alpha", name="Alpha", team=team, risk_tier=RiskTier.LOW),
        "bravo": FeatureFactory(slug="bravo", name="Bravo", team=team, risk_tier=RiskTier.REGULATED),
        "charlie": FeatureFactory(slug="charlie", name="Charlie", team=team, risk_tier=RiskTier.HIGH),
        "delta": FeatureFactory(slug="delta", name="Delta", team=team, risk_tier=RiskTier.MEDIUM),
    }
    # Another team's restricted feature: never listed, counted or ranked for product_owner.
    FeatureFactory(slug="aardvark", name="Aardvark", team=other_team, risk_tier=RiskTier.REGULATED, restricted=True)
    return made


def page_names(client, **params):
    response = client.get(reverse("registry:feature_list"), params)
    assert response.status_code == 200
    return [feature.slug for feature in response.context["object_list"]], response


def api_names(user, **params):
    api = APIClient()
    api.force_authenticate(user)
    response = api.get("/api/v1/features/", params)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_features_sort_by_each_column_both_ways_on_the_page_and_in_the_api(client, product_owner, features):
    client.force_login(product_owner)

    assert page_names(client)[0] == ["alpha", "bravo", "charlie", "delta"]  # by name unless asked
    # Risk tier by severity, not alphabetically: regulated, high, medium, low.
    assert page_names(client, ordering="-risk_tier")[0] == ["bravo", "charlie", "delta", "alpha"]
    assert page_names(client, ordering="risk_tier")[0] == ["alpha", "delta", "charlie", "bravo"]
    assert api_names(product_owner, ordering="-risk_tier") == ["bravo", "charlie", "delta", "alpha"]
    assert page_names(client, ordering="-name")[0] == ["delta", "charlie", "bravo", "alpha"]
    assert api_names(product_owner, ordering="-name") == ["delta", "charlie", "bravo", "alpha"]


def test_sorting_keeps_the_filters_and_never_reveals_a_hidden_feature(client, product_owner, features):
    client.force_login(product_owner)

    names, response = page_names(client, ordering="-risk_tier", q="a")
    assert "aardvark" not in names and "aardvark" not in api_names(product_owner, ordering="-risk_tier")
    assert response.context["paginator"].count == len(names) == 4  # alpha, bravo, charlie, delta all hold an "a"
    assert "Aardvark" not in response.content.decode()


def test_a_header_link_toggles_the_direction_keeps_the_filters_and_goes_back_to_page_one(
    client, product_owner, features
):
    client.force_login(product_owner)

    html = client.get(
        reverse("registry:feature_list"), {"q": "a", "ordering": "risk_tier", "page": "1"}
    ).content.decode()

    header = re.search(r'<th class="sortable[^"]*" aria-sort="ascending"><a href="\?([^"]+)"', html)
    assert header, "the sorted column says so to screen readers"
    target = header.group(1).replace("&amp;", "&")
    assert "ordering=-risk_tier" in target and "q=a" in target and "page=" not in target
    assert 'aria-sort="none"><a href="?q=a&amp;ordering=name"' in html  # other columns start ascending
    assert "▲" in html


def test_the_sort_select_names_each_order_once(client, product_owner, features):
    client.force_login(product_owner)

    form = client.get(reverse("registry:feature_list")).context["filter"].form
    labels = [label for _value, label in form.fields["ordering"].choices]
    assert len(labels) == len(set(labels))
    assert "" not in [value for value, _label in form.fields["ordering"].choices]


def test_an_unknown_order_is_refused_plainly_on_the_page_and_in_the_api(client, product_owner, features):
    client.force_login(product_owner)
    api = APIClient()
    api.force_authenticate(product_owner)

    page = client.get(reverse("registry:feature_list"), {"ordering": "password"})
    answer = api.get("/api/v1/features/", {"ordering": "password"})

    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    assert answer.status_code == 400 and "ordering" in answer.content.decode()


def test_pages_of_a_sort_with_ties_never_overlap(client, product_owner, team, settings):
    settings.GATEHOUSE_PAGE_SIZE = 3
    for number in range(7):
        FeatureFactory(slug=f"same-{number}", team=team, risk_tier=RiskTier.HIGH)
    client.force_login(product_owner)

    seen = []
    for page in (1, 2, 3):
        names, _response = page_names(client, ordering="-risk_tier", page=str(page))
        seen += names
    assert sorted(seen) == sorted(f"same-{number}" for number in range(7))


def test_requests_incidents_findings_queue_and_readiness_take_ordering(client, governance_admin, features):
    client.force_login(governance_admin)
    for name, url, good in [
        ("requests", reverse("approvals:request_list"), "-feature"),
        ("incidents", reverse("incidents:incident_list"), "-severity"),
        ("findings", reverse("freshness:dashboard"), "-since"),
        ("readiness", reverse("readiness:dashboard"), "-readiness"),
    ]:
        response = client.get(url, {"ordering": good})
        assert response.status_code == 200, name
        bad = client.get(url, {"ordering": "nonsense"})
        assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode(), name


def test_readiness_sorts_by_what_is_missing(client, product_owner, features):
    client.force_login(product_owner)

    def order(ordering):
        rows = client.get(reverse("readiness:dashboard"), {"ordering": ordering}).context["object_list"]
        return [row.feature.slug for row in rows]

    by_tier = order("-tier")
    assert by_tier == ["bravo", "charlie", "delta", "alpha"]
    missing = {
        row.feature.slug: len(row.missing) for row in client.get(reverse("readiness:dashboard")).context["object_list"]
    }
    most_missing_first = order("readiness")
    assert [missing[slug] for slug in most_missing_first] == sorted(missing.values(), reverse=True)
    assert [missing[slug] for slug in order("-readiness")] == sorted(missing.values())


def test_the_queue_sorts_in_the_api_like_on_the_page(security_reviewer):
    api = APIClient()
    api.force_authenticate(security_reviewer)
    assert api.get("/api/v1/queue/", {"ordering": "-waiting"}).status_code == 200
    assert api.get("/api/v1/queue/", {"ordering": "nonsense"}).status_code == 400


def test_a_restricted_feature_stays_out_of_every_order(client, features):
    client.force_login(UserFactory(username="nobody"))
    for ordering in ("name", "-name", "risk_tier", "-risk_tier", "team", "-updated"):
        names, _response = page_names(client, ordering=ordering)
        assert "aardvark" not in names and len(names) == 4


def test_the_audit_trail_sorts_on_the_page_and_in_the_api(client, auditor, features):
    client.force_login(auditor)
    api = APIClient()
    api.force_authenticate(auditor)

    newest_first = [event.sequence for event in client.get(reverse("registry:audit_list")).context["object_list"]]
    oldest_first = [
        event.sequence
        for event in client.get(reverse("registry:audit_list"), {"ordering": "sequence"}).context["object_list"]
    ]
    assert newest_first == sorted(newest_first, reverse=True) and oldest_first == sorted(oldest_first)
    by_action = [row["action"] for row in api.get("/api/v1/audit-events/", {"ordering": "action"}).json()["results"]]
    assert by_action == sorted(by_action)
