"""The rollback form shows each version it may return to whole (its change summary wraps), never cut
mid-word as a menu option was."""

import re

import pytest
from django.urls import reverse

from tests.incidents.conftest import (  # noqa: F401  (the incidents world: a feature live through real gates)
    approved_request,
    default_gates,
    feature,
    go_live,
    new_version,
    on_call,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
)

pytestmark = pytest.mark.django_db

LONG_SUMMARY = (
    "Route vulnerable-customer claims to the specialist queue first and explain the routing decision to handlers."
)


def test_the_rollback_form_shows_each_version_to_return_to_whole(client, releases, feature, product_owner):
    v1, _v2 = releases(2)
    type(v1).objects.filter(pk=v1.pk).update(change_summary=LONG_SUMMARY)
    client.force_login(product_owner)

    response = client.get(reverse("registry:rollback", args=[feature.slug, "production", "eu"]))

    page = " ".join(response.content.decode().split())
    assert response.status_code == 200
    assert 'type="radio" name="to_version"' in page and "<select" not in page.split('id="field-to_version"')[1][:200]
    assert f"({LONG_SUMMARY})</label>" in page
    assert '<div class="radio-group" role="radiogroup" aria-label="Roll back to">' in page  # named as a group
    assert re.search(rf'<input type="radio" name="to_version" value="{v1.pk}"[^>]* checked', page)  # chosen already
