"""Lists answer odd page numbers with the nearest page; a rollback with nowhere to go says so."""

import pytest
from django.urls import reverse

from tests.approvals.conftest import *  # noqa: F401,F403  (fixtures)


@pytest.mark.parametrize(
    "url", [reverse("approvals:queue"), reverse("approvals:request_list"), reverse("registry:notification_list")]
)
@pytest.mark.parametrize("page", ["abc", "9999", "-1"])
def test_a_bad_page_number_shows_a_page_not_a_404(client, security_reviewer, url, page):
    client.force_login(security_reviewer)

    assert client.get(url, {"page": page}).status_code == 200


def test_the_rollback_page_explains_when_there_is_nothing_to_return_to(
    client, product_owner, feature, eu, new_version, go_live
):
    go_live(new_version())
    client.force_login(product_owner)

    response = client.get(reverse("registry:rollback", args=[feature.slug, "production", eu.code]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "No earlier version may be returned to here" in page and "Roll back now" not in page
