"""The pack exports page and API list cost the same queries however many packs a user asked for."""

import pytest

from packs.models import PackExport
from tests.query_counts import assert_constant

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # query counts at two sizes: `make test-fast` leaves them out


@pytest.fixture
def grow(regulated, auditor):
    def add(n):
        for index in range(n):
            PackExport.objects.create(
                feature=regulated["feature"],
                version=regulated["v2"] if index % 2 else None,
                format="pdf",
                requested_by=auditor,
            )

    return add


@pytest.mark.parametrize("target", ["/packs/", "/packs/?file_format=pdf&q=kyc", "/api/v1/evidence-packs/"])
def test_the_list_costs_the_same_queries_whatever_its_length(
    target, grow, auditor, client, django_assert_max_num_queries
):
    client.force_login(auditor)
    assert_constant(client, target, grow, django_assert_max_num_queries, max_queries=12)


def test_the_list_page_says_what_to_do_when_empty(auditor, client):
    client.force_login(auditor)
    page = client.get("/packs/").content.decode()
    assert "You have not asked for an evidence pack yet" in page
