"""The dashboard counts every live route resolve refuses and lists the first of them only, with resolve's
words: the count is the one the full list gave, however many there are (issue 22)."""

import pytest
from django.urls import reverse

from registry.views import features as views
from tests.approvals.test_resolve_at_the_gate import ca, feature, refused_live  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_dashboard_counts_every_refused_route_and_lists_the_first(
    client,
    governance_admin,
    feature,
    refused_live,
    monkeypatch,  # noqa: F811
):
    client.force_login(governance_admin)
    everything = client.get(reverse("registry:home"))
    assert everything.context["refused_total"] == 2 and len(everything.context["refused_routes"]) == 2

    monkeypatch.setattr(views, "REFUSED_ROWS", 1)
    response = client.get(reverse("registry:home"))

    assert response.context["refused_total"] == 2
    [shown] = response.context["refused_routes"]
    assert (shown.environment, shown.region.code) == ("production", "eu")
    assert shown.refusal.startswith("No eligible route for claims-triage in eu (production)")
    figure = next(item for item in response.context["posture"] if item["label"] == "live routes resolve refuses")
    assert figure["value"] == 2
    html = response.content.decode()
    assert '<span class="badge badge-bad">2</span>' in html and "The first 1 of 2, by feature." in html
