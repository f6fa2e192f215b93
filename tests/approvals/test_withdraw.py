"""Withdrawing a region: the owning team or governance takes a live pointer down, with a reason, audited
and kept in the deployment history; a rollback that has nowhere to go offers it instead."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from registry.choices import DeploymentEventKind
from registry.models import AuditEvent, Deployment, DeploymentEvent
from registry.selectors import live_at
from registry.services import deployment_withdraw, rollback_candidates
from tests.approvals.test_api import as_user

DEPLOYMENTS = "/api/v1/deployments/"


@pytest.fixture
def live(feature, new_version, go_live):
    """v1 of claims-triage live in production eu and us."""
    version = new_version(summary="First release.")
    go_live(version)
    return version


def withdraw_url(feature, region="eu", environment="production"):
    return reverse("registry:withdraw", args=[feature.slug, environment, region])


def test_withdrawing_removes_the_pointer_records_why_and_keeps_the_history(product_owner, feature, live, eu, us):
    event = deployment_withdraw(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        reason="  Policy no longer allows EU processing.  ",
    )

    assert (event.kind, event.from_version, event.to_version) == (DeploymentEventKind.WITHDRAWN, live, None)
    assert event.reason == "Policy no longer allows EU processing." and event.actor == product_owner
    assert not Deployment.objects.filter(feature=feature, region=eu).exists()
    assert Deployment.objects.filter(feature=feature, region=us).exists()  # only the region asked for
    audit = AuditEvent.objects.get(action="deployment.withdrawn")
    assert (audit.object_type, audit.feature_id, audit.actor_id) == ("deployment", feature.pk, product_owner.pk)
    assert audit.payload == {
        "environment": "production",
        "region": "eu",
        "from_version": 1,
        "to_version": None,
        "reason": "Policy no longer allows EU processing.",
        "approval_request": None,
        "incident": None,
    }
    assert live_at(feature=feature, environment="production", region=eu, at=timezone.now()) is None
    assert live_at(feature=feature, environment="production", region=us, at=timezone.now()).to_version == live


def test_only_the_owning_team_and_governance_withdraw(
    feature, live, eu, other_product_owner, auditor, security_reviewer, governance_admin
):
    for stranger in (other_product_owner, auditor, security_reviewer):
        with pytest.raises(PermissionDenied):
            deployment_withdraw(actor=stranger, feature=feature, environment="production", region=eu, reason="x")
    assert Deployment.objects.filter(feature=feature, region=eu).exists()

    deployment_withdraw(actor=governance_admin, feature=feature, environment="production", region=eu, reason="Ruling.")
    assert not Deployment.objects.filter(feature=feature, region=eu).exists()


def test_a_withdrawal_needs_a_reason_and_a_live_pointer(product_owner, feature, live, eu):
    with pytest.raises(ValidationError):
        deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="  ")
    assert Deployment.objects.filter(feature=feature, region=eu).exists()

    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    with pytest.raises(Conflict, match="nothing to withdraw"):
        deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Again.")
    assert DeploymentEvent.objects.filter(kind=DeploymentEventKind.WITHDRAWN).count() == 1


def test_a_withdrawn_version_is_no_rollback_target_and_a_promotion_serves_there_again(
    product_owner, feature, eu, new_version, go_live
):
    v1 = new_version()
    go_live(v1)
    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    v2 = new_version(summary="Fix forward.")

    go_live(v2)

    assert Deployment.objects.get(feature=feature, region=eu).version == v2
    assert rollback_candidates(feature=feature, environment="production", region=eu) == []  # v1 was withdrawn
    assert list(
        DeploymentEvent.objects.filter(region=eu)
        .order_by("id")
        .values_list("kind", "from_version__number", "to_version__number")
    ) == [("promoted", None, 1), ("withdrawn", 1, None), ("promoted", None, 2)]


# --- The page ---------------------------------------------------------------------------------


def test_the_feature_page_offers_withdraw_and_no_rollback_where_none_may_be_returned_to(
    client, ml_engineer, feature, live
):
    client.force_login(ml_engineer)

    html = client.get(feature.get_absolute_url()).content.decode()

    assert "Roll back…" not in html  # only v1 ever served: a rollback would lead nowhere
    assert html.count("Withdraw…") == 2
    assert withdraw_url(feature, "eu") in html and withdraw_url(feature, "us") in html


def test_the_feature_page_offers_rollback_where_an_earlier_version_served(client, ml_engineer, feature, releases):
    releases(2)
    client.force_login(ml_engineer)

    html = client.get(feature.get_absolute_url()).content.decode()

    assert html.count("Roll back…") == 2 and html.count("Withdraw…") == 2


def test_a_rollback_with_nowhere_to_go_offers_the_withdrawal(client, ml_engineer, feature, live):
    client.force_login(ml_engineer)

    html = client.get(reverse("registry:rollback", args=[feature.slug, "production", "eu"])).content.decode()

    assert "No earlier version may be returned to here" in html
    assert withdraw_url(feature) in html and "Withdraw eu…" in html


def test_withdrawing_through_the_page_asks_for_a_reason_first(client, ml_engineer, feature, live, eu):
    client.force_login(ml_engineer)

    page = client.get(withdraw_url(feature))
    assert page.status_code == 200
    assert "Withdraw" in page.content.decode() and "409" in page.content.decode()

    refused = client.post(withdraw_url(feature), {"reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    assert Deployment.objects.filter(feature=feature, region=eu).exists()

    done = client.post(withdraw_url(feature), {"reason": "Policy pack no longer allows eu."}, follow=True)
    assert done.redirect_chain[-1][0] == feature.get_absolute_url() + "#live"
    html = done.content.decode()
    assert "Withdrew" in html and '<span class="badge badge-bad">withdrawn</span>' in html
    assert "Policy pack no longer allows eu." in html
    assert not Deployment.objects.filter(feature=feature, region=eu).exists()


def test_the_withdraw_page_is_the_owning_teams(client, other_product_owner, outsider, feature, live):
    client.force_login(other_product_owner)
    assert client.get(withdraw_url(feature)).status_code == 403
    assert client.post(withdraw_url(feature), {"reason": "x"}).status_code == 403
    feature.restricted = True
    feature.save(update_fields=["restricted"])
    client.force_login(outsider)
    assert client.post(withdraw_url(feature), {"reason": "x"}).status_code == 404
    assert Deployment.objects.filter(feature=feature).count() == 2


# --- The API ----------------------------------------------------------------------------------


def test_withdrawing_through_the_api(ml_engineer, feature, live, eu):
    response = as_user(ml_engineer).post(
        f"{DEPLOYMENTS}withdraw/",
        {"feature": feature.slug, "environment": "production", "region": "eu", "reason": "Residency ruling."},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert {
        key: body[key] for key in ("feature", "environment", "region", "kind", "from_version", "to_version", "reason")
    } == {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "kind": "withdrawn",
        "from_version": 1,
        "to_version": None,
        "reason": "Residency ruling.",
    }
    assert not Deployment.objects.filter(feature=feature, region=eu).exists()
    events = as_user(ml_engineer, name="reader").get("/api/v1/deployment-events/").json()["results"]
    assert events[0]["kind"] == "withdrawn" and events[0]["to_version"] is None


def test_the_api_refuses_a_withdrawal_by_another_team_or_of_a_hidden_feature(
    other_product_owner, outsider, feature, live
):
    body = {"feature": feature.slug, "environment": "production", "region": "eu", "reason": "x"}

    assert as_user(other_product_owner).post(f"{DEPLOYMENTS}withdraw/", body, format="json").status_code == 403
    feature.restricted = True
    feature.save(update_fields=["restricted"])
    hidden = as_user(outsider).post(f"{DEPLOYMENTS}withdraw/", body, format="json")
    assert hidden.status_code == 400 and "feature" in hidden.json()
    assert Deployment.objects.filter(feature=feature).count() == 2


def test_the_schema_documents_the_withdrawal(client, ml_engineer):
    client.force_login(ml_engineer)

    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/deployments/withdraw/"]["post"]
    assert "201" in operation["responses"]
    assert "withdrawn" in operation["description"]
    event = schema["components"]["schemas"]["DeploymentEvent"]["properties"]
    assert event["to_version"].get("nullable") is True
