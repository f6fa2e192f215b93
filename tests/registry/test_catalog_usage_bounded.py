"""A catalog entry used by thousands of versions (the scale benchmark's vendors) keeps a bounded page:
its usage table shows the first 100 versions and says how many there are, in a constant number of queries."""

import pytest
from django.urls import reverse

from tests.factories import CatalogModelFactory, FeatureFactory, VersionFactory


@pytest.mark.django_db
def test_vendor_usage_table_shows_at_most_100_versions_and_the_total(
    client, governance_admin, team, django_assert_max_num_queries
):
    model = CatalogModelFactory()
    feature = FeatureFactory(team=team, slug="busy-feature", name="Busy feature")
    url = reverse("registry:vendor_detail", args=[model.vendor.slug])
    client.force_login(governance_admin)

    VersionFactory(feature=feature, model=model, number=1)
    with django_assert_max_num_queries(30) as few:
        client.get(url)
    for number in range(2, 106):
        VersionFactory(feature=feature, model=model, number=number)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(f"<td>{model.identifier}</td><td><code>") == 100  # the usage table's rows
    assert "Showing the first 100 of 105 versions" in page
