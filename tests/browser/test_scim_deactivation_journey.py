"""Provisioning in the browser: governance makes the identity provider's SCIM token on the tokens page;
the identity provider deactivates a security reviewer over SCIM; the reviewer's open browser is sent to
the sign-in page at its next click, and governance's dashboard lists what still names them.

Set GATEHOUSE_SHOTS to a folder to keep screenshots of the pages at 1440 and 390 pixels wide."""

import os
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import expect

from approvals.models import SignOff
from approvals.services import signoff_decide
from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    default_gates,
    feature,
    new_version,
    pins,
    record_evidence,
    request_gate,
)
from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db(transaction=True)


def shoot(page, name):
    folder = os.environ.get("GATEHOUSE_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1360, "height": 900})


def test_the_identity_provider_deactivates_a_reviewer_and_governance_sees_what_to_hand_over(
    as_user, live_server, governance_admin, security_reviewer, new_version, record_evidence, request_gate
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    signoff = SignOff.objects.filter(request=request, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Threat model reviewed.")
    FeatureFactory(slug="claims-chat", name="Claims chat", accountable_owner=security_reviewer)

    admin = as_user(governance_admin)
    admin.goto(f"{live_server.url}/tokens/")
    expect(admin.locator("#scim-provisioning")).to_contain_text(f"{live_server.url}/scim/v2/")
    admin.get_by_label("Name").fill("okta-scim")
    admin.locator("#field-scopes").get_by_text("Read", exact=False).first.uncheck()
    admin.locator("input[value=scim]").check()
    admin.locator("#id_expires").select_option("never")
    admin.get_by_role("button", name="Create token").click()
    expect(admin.locator("#scim-setup")).to_contain_text(f"{live_server.url}/scim/v2/")
    raw = admin.locator("#new-token").inner_text().strip()
    shoot(admin, "token-page")

    reviewer = as_user(security_reviewer)
    reviewer.goto(f"{live_server.url}/approvals/queue/")

    with httpx2.Client(
        base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {raw}"}, trust_env=False
    ) as idp:
        found = idp.get("/Users", params={"filter": f'userName eq "{security_reviewer.username}"'}).json()
        answer = idp.patch(
            f"/Users/{found['Resources'][0]['id']}",
            json={
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": False}],
            },
            headers={"Content-Type": "application/scim+json"},
        )
    assert answer.status_code == 200, answer.text

    reviewer.reload()
    expect(reviewer.locator("#id_username")).to_be_visible()  # signed out: the sign-in page

    admin.goto(f"{live_server.url}/")
    panel = admin.locator("#deactivated-open-work")
    expect(panel).to_contain_text("Deactivated people with open work")
    expect(panel).to_contain_text(security_reviewer.username)
    expect(panel).to_contain_text(f"request #{request.pk}")
    expect(panel).to_contain_text("Accountable owner and incident owner of Claims chat")
    expect(panel).to_contain_text("by the identity provider (SCIM)")
    panel.scroll_into_view_if_needed()
    shoot(admin, "dashboard-panel")
