"""A form with errors says so at its top, each error a link to its field, and marks each field in place;
nothing typed is lost."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_feature_form_lists_its_errors_at_the_top_linking_to_each_field(client, product_owner):
    client.force_login(product_owner)

    response = client.post(reverse("registry:feature_create"), {"name": "Letter helper", "purpose": ""})

    html = response.content.decode()
    assert response.status_code in (200, 422)
    summary = html.split('class="error-summary"', 1)[1].split("</div>\n</div>", 1)[0]
    assert 'href="#field-purpose"' in summary and 'href="#field-slug"' in summary
    assert "fields need fixing" in summary and "nothing you typed was lost" in summary
    assert '<div class="field field-error" id="field-purpose"' in html
    assert 'value="Letter helper"' in html
    assert html.index('class="error-summary"') < html.index('id="field-name"')  # before the first field


def test_a_form_without_errors_has_no_summary(client, product_owner):
    client.force_login(product_owner)
    assert 'class="error-summary"' not in client.get(reverse("registry:feature_create")).content.decode()
