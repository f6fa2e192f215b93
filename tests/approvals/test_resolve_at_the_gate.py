"""Gates decide with what resolve would decide: a region where the version could not serve (its policy
pack does not allow it, no model of it is hosted there, its vendor or model is suspended) is refused at
the request, with resolve's own reasons; the review page shows, per region, what resolve would answer;
promotion asks again; a live route resolve refuses later is flagged on the feature page, in readiness and
on the dashboard."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from approvals.models import ApprovalRequest
from approvals.services import promotion_execute
from core.exceptions import Conflict
from registry.models import Deployment, DeploymentEvent
from registry.services import version_create, version_submit
from routing.services import catalog_status_change
from tests.approvals.test_api import REQUESTS, as_user
from tests.factories import PolicyPackFactory, RegionFactory

POLICY_REFUSAL = "its policy pack does not allow data to be processed in ca"


@pytest.fixture
def ca(db):
    return RegionFactory(code="ca", name="Canada")


@pytest.fixture
def feature(feature, ca):  # the approvals feature, serving Canada too
    feature.regions.add(ca)
    return feature


def ticked_regions(response):
    return sorted(region.code for region in response.context["form"].fields["regions"].initial)


# --- The request ------------------------------------------------------------------------------


def test_a_region_the_policy_pack_does_not_allow_is_refused_with_resolves_reason(new_version, request_gate, eu, ca):
    version = new_version()  # policy pack "claims" allows eu and us only

    with pytest.raises(ValidationError) as refused:
        request_gate(version, regions=[eu, ca])

    message = " ".join(refused.value.message_dict["regions"])
    assert "v1 could not serve ca" in message and POLICY_REFUSAL in message
    assert "could not serve eu" not in message  # eu could serve: not named
    assert not ApprovalRequest.objects.exists()


def test_a_region_no_model_is_hosted_in_is_refused(ml_engineer, feature, pins, request_gate, eu, us, ca):
    policy = PolicyPackFactory(name="claims-americas", allowed_regions=[eu, us, ca])
    version = version_submit(
        actor=ml_engineer,
        version=version_create(
            actor=ml_engineer, feature=feature, change_summary="Allow Canada.", **{**pins, "policy_pack": policy}
        ),
    )

    with pytest.raises(ValidationError) as refused:
        request_gate(version, regions=[ca])

    message = " ".join(refused.value.message_dict["regions"])
    assert "neither the primary model nor any fallback is eligible there" in message
    assert request_gate(version, regions=[eu, us]).regions.count() == 2  # where it can serve, it may ask


def test_a_suspended_model_is_refused_every_region(new_version, request_gate, governance_admin, pins):
    version = new_version()
    catalog_status_change(actor=governance_admin, suspend=True, reason="Vendor incident.", model=pins["model"])

    with pytest.raises(ValidationError) as refused:
        request_gate(version)

    assert {message.split(" could not serve ")[1][:2] for message in refused.value.message_dict["regions"]} == {
        "eu",
        "us",
    }


def test_the_api_refuses_the_region_with_the_reason(ml_engineer, new_version):
    version = new_version()

    response = as_user(ml_engineer).post(
        REQUESTS, {"version_id": version.pk, "environment": "production", "regions": ["eu", "ca"]}, format="json"
    )

    assert response.status_code == 400
    assert POLICY_REFUSAL in " ".join(response.json()["regions"])
    assert response.json()["code"] == "region_not_allowed"
    assert not ApprovalRequest.objects.exists()


def test_the_form_does_not_tick_a_refused_region_and_says_why(client, ml_engineer, new_version):
    version = new_version()
    client.force_login(ml_engineer)
    url = reverse("approvals:request_create", args=[version.feature.slug, version.number])

    page = client.get(url)

    assert ticked_regions(page) == ["eu", "us"]
    html = page.content.decode()
    assert "ca (Canada): resolve would refuse it. Policy claims@1 does not allow ca (allows eu, us)." in html
    assert "Not ticked: ca." in html

    posted = client.post(url, {"environment": "production", "regions": [r.pk for r in version.feature.regions.all()]})
    assert posted.status_code == 200
    assert POLICY_REFUSAL in posted.content.decode()
    assert not ApprovalRequest.objects.exists()


# --- Review and promotion ---------------------------------------------------------------------


def test_the_review_page_shows_what_resolve_would_answer_per_region(
    client, security_reviewer, new_version, request_gate, governance_admin, pins
):
    request = request_gate(new_version())
    client.force_login(security_reviewer)

    html = client.get(request.get_absolute_url()).content.decode()
    assert "What resolve would answer if it went live" in html
    assert html.count('<span class="badge badge-ok">serves</span>') == 2
    assert "200: primary" in html and "claude-sonnet-4 serves v1" in html

    catalog_status_change(
        actor=governance_admin, suspend=True, reason="Data processing terms lapsed.", model=pins["model"]
    )
    html = client.get(request.get_absolute_url()).content.decode()
    assert html.count('<span class="badge badge-bad">refused</span>') == 2
    assert "is suspended in the catalog." in html
    assert "Resolve would refuse v1 in eu, us." in html  # promoting it will be refused


def test_promotion_asks_resolve_again_and_refuses_with_the_reason(
    approved_request, product_owner, governance_admin, new_version, pins
):
    request = approved_request(new_version())
    catalog_status_change(actor=governance_admin, suspend=True, reason="Vendor breach.", model=pins["model"])

    with pytest.raises(Conflict) as refused:
        promotion_execute(actor=product_owner, request=request)

    assert "Resolve would refuse the version where it would go live" in refused.value.message
    assert "neither the primary model nor any fallback is eligible there" in refused.value.message
    assert not Deployment.objects.exists() and not DeploymentEvent.objects.exists()


def test_promotion_through_the_page_says_why_it_is_refused(
    client, approved_request, product_owner, governance_admin, new_version, pins
):
    request = approved_request(new_version())
    catalog_status_change(actor=governance_admin, suspend=True, reason="Vendor breach.", vendor=pins["model"].vendor)
    client.force_login(product_owner)
    url = reverse("approvals:promote", args=[request.pk])

    assert "Promotion will be refused." in client.get(url).content.decode()
    response = client.post(url, {"reason": ""})

    assert response.status_code == 200
    assert "Resolve would refuse the version where it would go live" in response.content.decode()
    assert not Deployment.objects.exists()


# --- Live routes resolve refuses now ---------------------------------------------------------


@pytest.fixture
def refused_live(feature, new_version, go_live, governance_admin, pins):
    """v1 live in eu and us, then its only model suspended: resolve refuses both routes."""
    version = new_version()
    go_live(version)
    catalog_status_change(
        actor=governance_admin, suspend=True, reason="Data processing terms lapsed.", model=pins["model"]
    )
    return version


def test_the_feature_page_flags_a_live_route_resolve_refuses(client, ml_engineer, feature, refused_live):
    client.force_login(ml_engineer)

    html = client.get(feature.get_absolute_url()).content.decode()

    assert "Resolve refuses 2 live routes" in html
    assert html.count("resolve refuses</span>") == 2
    assert "No eligible route for claims-triage in eu (production)" in html


def test_the_feature_page_flags_nothing_while_resolve_serves(client, ml_engineer, feature, new_version, go_live):
    go_live(new_version())
    client.force_login(ml_engineer)

    html = client.get(feature.get_absolute_url()).content.decode()

    assert "Resolve refuses" not in html and "resolve refuses</span>" not in html


def test_the_dashboard_lists_live_routes_resolve_refuses(client, ml_engineer, outsider, feature, refused_live):
    client.force_login(ml_engineer)
    html = client.get(reverse("registry:home")).content.decode()
    assert "Live routes resolve refuses" in html
    assert [(d.environment, d.region.code) for d in client.get(reverse("registry:home")).context["refused_routes"]] == [
        ("production", "eu"),
        ("production", "us"),
    ]

    feature.restricted = True
    feature.save(update_fields=["restricted"])
    client.force_login(outsider)
    html = client.get(reverse("registry:home")).content.decode()
    assert "Live routes resolve refuses" not in html and feature.name not in html


def test_readiness_flags_a_live_route_resolve_refuses(client, ml_engineer, feature, refused_live):
    client.force_login(ml_engineer)

    feature_page = client.get(reverse("readiness:feature", args=[feature.slug])).content.decode()
    inventory = client.get(reverse("readiness:dashboard")).content.decode()

    assert "Resolve refuses 2 live routes." in feature_page
    assert "resolve refuses eu" in inventory and "resolve refuses us" in inventory
