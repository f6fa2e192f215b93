"""Resolve after a withdrawal: 409 "withdrawn" with the reason where the pointer was taken down, at once
(the cached decision is dropped as after a rollback), and served again once a version is promoted."""

import pytest

from registry.services import deployment_withdraw
from tests.routing.conftest import resolve

pytestmark = pytest.mark.django_db(transaction=True)  # the cache is invalidated once the change commits


def test_resolve_answers_409_withdrawn_with_the_reason_at_once(router, live, feature, product_owner, eu):
    assert resolve(router).status_code == 200  # computed and cached

    deployment_withdraw(
        actor=product_owner,
        feature=feature,
        environment="production",
        region=eu,
        reason="Policy no longer allows EU processing.",
    )

    response = resolve(router)
    assert response.status_code == 409
    body = response.json()
    assert "withdrawn there (Policy no longer allows EU processing);" in body["detail"]
    assert body["code"] == "withdrawn"
    assert body["withdrawn"]["version"] == live.number
    assert body["withdrawn"]["reason"] == "Policy no longer allows EU processing."
    assert body["explanation"] == [
        {
            "rule": "deployment",
            "subject": "",
            "outcome": "fail",
            "detail": body["explanation"][0]["detail"],
        }
    ]
    assert body["explanation"][0]["detail"].startswith("v1 was withdrawn from claims-triage in eu (production) on ")
    assert resolve(router, region="us").status_code == 200  # the other region keeps serving


def test_a_promotion_after_the_withdrawal_serves_again(router, live, feature, product_owner, eu, new_version, go_live):
    deployment_withdraw(actor=product_owner, feature=feature, environment="production", region=eu, reason="Down.")
    assert resolve(router).status_code == 409

    go_live(new_version(summary="Fix forward."))

    response = resolve(router)
    assert response.status_code == 200 and response.json()["version"]["number"] == 2
    assert "withdrawn" not in response.json()


def test_a_region_never_live_is_not_called_withdrawn(router, live, uk):
    body = resolve(router, region="uk").json()

    assert "withdrawn" not in body and body["detail"].endswith("no version is live there.")
