"""An evidence pack's status page once the worker has built it: "Ready" once, nothing left saying it is
building (neither the card nor the message shown after asking), and the polling stopped."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_evidence_pack_journey import history  # noqa: F401  (the regulated feature's history)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_built_pack_says_ready_once_and_stops_polling(as_user, live_server, history, auditor, monkeypatch):  # noqa: F811
    from packs import services
    from packs.models import PackExport

    monkeypatch.setattr(services, "_queue_build", lambda export_id: None)  # queued; no worker has taken it yet
    page = as_user(auditor)
    page.goto(f"{live_server.url}{history['feature'].get_absolute_url()}")
    panel = page.locator("#evidence-pack")
    panel.locator("select[name=format]").select_option("json")
    panel.get_by_role("button", name="Build evidence pack").click()
    status = page.locator("#pack-status")
    expect(status).to_have_attribute("data-status", "queued")
    expect(status).to_have_attribute("hx-trigger", "every 1s")  # it follows the build

    services.pack_export_build(export_id=PackExport.objects.get().pk)  # the worker

    expect(status).to_have_attribute("data-status", "ready", timeout=15_000)
    expect(status.locator(".badge")).to_have_text("Ready")
    assert "Ready Ready" not in status.inner_text()
    assert "Building" not in page.locator("main").inner_text()  # the message after asking included
    polls = []
    page.on("request", lambda request: polls.append(request.url) if "/packs/" in request.url else None)
    page.wait_for_timeout(2500)
    assert polls == [] and status.get_attribute("hx-trigger") is None
