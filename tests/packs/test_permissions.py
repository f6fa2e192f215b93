"""Who may build and download packs: governance admins and auditors for every feature, the owning team for its
own; others are refused, restricted features stay invisible (404), and an export is its requester's alone."""

import pytest
from django.urls import reverse

from packs import services
from packs.models import PackExport

pytestmark = pytest.mark.django_db


def request_page(client, user, slug, number=None):
    client.force_login(user)
    if number:
        return client.post(reverse("packs:export_request_version", args=[slug, number]), {"format": "json"})
    return client.post(reverse("packs:export_request", args=[slug]), {"format": "json"})


@pytest.mark.parametrize("persona", ["governance_admin", "auditor"])
def test_governance_and_auditors_build_packs_of_every_feature_restricted_ones_too(
    request, persona, regulated, restricted, client
):
    user = request.getfixturevalue(persona)
    for slug in ("kyc-document-check", "fraud-scoring"):
        assert request_page(client, user, slug).status_code == 302
    assert PackExport.objects.filter(requested_by=user).count() == 2


@pytest.mark.parametrize("persona", ["product_owner", "ml_engineer"])
def test_the_owning_team_builds_packs_of_its_own_features(request, persona, regulated, client):
    user = request.getfixturevalue(persona)
    assert request_page(client, user, "kyc-document-check", 2).status_code == 302
    assert PackExport.objects.get(requested_by=user).version == regulated["v2"]


@pytest.mark.parametrize("persona", ["security_reviewer", "support_agent", "outsider", "other_product_owner"])
def test_others_are_refused_packs_of_features_they_can_see(request, persona, regulated, client):
    user = request.getfixturevalue(persona)
    response = request_page(client, user, "kyc-document-check")
    assert response.status_code == 403
    assert not PackExport.objects.exists()
    client.force_login(user)
    panel = client.get(reverse("packs:panel", args=["kyc-document-check"])).content.decode()
    assert "Evidence packs are for governance admins, auditors and the feature&#x27;s own team." in panel
    assert "<form" not in panel
    assert client.get(reverse("packs:export_request", args=["kyc-document-check"])).status_code == 403


@pytest.mark.parametrize("persona", ["product_owner", "security_reviewer", "outsider"])
def test_a_restricted_feature_is_not_found_by_those_who_may_not_see_it(request, persona, restricted, client):
    user = request.getfixturevalue(persona)
    assert request_page(client, user, "fraud-scoring").status_code == 404
    assert client.get(reverse("packs:panel", args=["fraud-scoring"])).status_code == 404
    api = client.post("/api/v1/evidence-packs/", {"feature": "fraud-scoring"}, content_type="application/json")
    assert api.status_code == 404
    assert not PackExport.objects.exists()


def test_the_feature_and_version_pages_offer_the_pack(regulated, auditor, client):
    client.force_login(auditor)
    services.pack_export_request(
        actor=auditor, feature=regulated["feature"], version=regulated["v2"], pack_format="pdf"
    )
    feature_page = client.get(regulated["feature"].get_absolute_url()).content.decode()
    version_page = client.get(regulated["v2"].get_absolute_url()).content.decode()
    assert "Evidence pack" in feature_page and reverse("packs:panel", args=["kyc-document-check"]) in feature_page
    assert reverse("packs:panel", args=["kyc-document-check"]) + "?version=2" in version_page

    feature_panel = client.get(reverse("packs:panel", args=["kyc-document-check"])).content.decode()
    version_panel = client.get(reverse("packs:panel", args=["kyc-document-check"]), {"version": 2}).content.decode()
    assert f'action="{reverse("packs:export_request", args=["kyc-document-check"])}"' in feature_panel
    assert "Your recent packs" not in feature_panel  # the one pack is of v2, not of the whole feature
    assert f'action="{reverse("packs:export_request_version", args=["kyc-document-check", 2])}"' in version_panel
    assert "Your recent packs of this version" in version_panel


def test_the_request_page_works_without_javascript(regulated, product_owner, client):
    client.force_login(product_owner)
    page = client.get(reverse("packs:export_request_version", args=["kyc-document-check", 1]))
    assert page.status_code == 200 and 'name="format"' in page.content.decode()
    bad = client.post(reverse("packs:export_request_version", args=["kyc-document-check", 1]), {"format": "docx"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert not PackExport.objects.exists()


def test_an_export_is_its_requesters_alone(regulated, auditor, governance_admin, product_owner, client):
    export = services.pack_export_build(
        export_id=services.pack_export_request(actor=product_owner, feature=regulated["feature"], pack_format="json").pk
    )
    for other in (auditor, governance_admin):
        client.force_login(other)
        assert client.get(export.get_absolute_url()).status_code == 404
        assert client.get(reverse("packs:export_download", args=[export.pk])).status_code == 404
        assert client.get(f"/api/v1/evidence-packs/{export.pk}/download/").status_code == 404
        assert export.pk not in [row["id"] for row in client.get("/api/v1/evidence-packs/").json()["results"]]


def test_leaving_the_team_takes_its_packs_away(regulated, product_owner, team, client):
    export = services.pack_export_request(actor=product_owner, feature=regulated["feature"], pack_format="json")
    product_owner.groups.remove(team.group)
    client.force_login(product_owner)
    assert client.get(export.get_absolute_url()).status_code == 404
