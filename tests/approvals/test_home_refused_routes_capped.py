"""The dashboard counts every live route resolve refuses and lists the first of them only, with resolve's
words: the count is the one the full list gave, however many there are (issue 22)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.views import features as views
from routing.services import catalog_status_change
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


def test_the_kept_list_costs_no_route_table_and_follows_a_change(
    client,
    governance_admin,
    feature,
    refused_live,
    pins,
    django_capture_on_commit_callbacks,  # noqa: F811
):
    """The refused routes are kept in the shared cache under routing's generation: the next visit reads no
    route and no catalog, and the reinstatement that renews the affected stamps shows at once."""
    client.force_login(governance_admin)
    assert client.get(reverse("registry:home")).context["refused_total"] == 2

    with CaptureQueriesContext(connection) as again:
        response = client.get(reverse("registry:home"))
    assert response.context["refused_total"] == 2
    assert [route.refusal for route in response.context["refused_routes"]] == [
        route.refusal for route in client.get(reverse("registry:home")).context["refused_routes"]
    ]
    assert not [query for query in again.captured_queries if "registry_catalogmodel_regions" in query["sql"]]

    with django_capture_on_commit_callbacks(execute=True):
        catalog_status_change(actor=governance_admin, suspend=False, reason="Terms renewed.", model=pins["model"])

    response = client.get(reverse("registry:home"))
    assert response.context["refused_total"] == 0 and response.context["refused_routes"] == []


def test_the_kept_list_of_one_viewer_is_never_anothers(
    client,
    governance_admin,
    outsider,
    feature,
    refused_live,  # noqa: F811
):
    """Governance's kept list names a restricted feature's routes; someone who may not see that feature gets
    a list of their own, with no trace of it."""
    feature.restricted = True
    feature.save(update_fields=["restricted"])
    client.force_login(governance_admin)
    assert client.get(reverse("registry:home")).context["refused_total"] == 2

    client.force_login(outsider)
    response = client.get(reverse("registry:home"))

    assert response.context["refused_total"] == 0
    assert feature.slug not in response.content.decode()
