"""The auditor's evidence pack, end to end in Chromium: open a regulated feature from the feature list, ask for
its PDF pack, wait on the status page until it is ready, download it, and read the sign-offs and their reasons
in the PDF itself. The download is in the audit trail with the file's SHA-256."""

import hashlib

import pytest
from playwright.sync_api import expect

from registry.models import AuditEvent
from tests.browser.navigation import nav_to
from tests.factories import UserFactory
from tests.packs.conftest import REJECT_REASON, SANDBOX_REASON, regulated_history
from tests.packs.helpers import pdf_text

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def history(settings, tmp_path, team, eu, product_owner, ml_engineer, security_reviewer):
    settings.MEDIA_ROOT = tmp_path / "media"
    approver = UserFactory(username="rae-ml", first_name="Rae", last_name="Reviewer", roles=["ml"])
    return regulated_history(
        team=team,
        eu=eu,
        product_owner=product_owner,
        ml_engineer=ml_engineer,
        security_reviewer=security_reviewer,
        sandbox_approver=approver,
    )


def test_the_auditor_downloads_the_pdf_pack_of_a_regulated_feature(as_user, live_server, history, auditor):
    page = as_user(auditor)
    nav_to(page, "Features")
    page.get_by_role("link", name="KYC document check").first.click()
    expect(page.locator("h1")).to_contain_text("KYC document check")

    panel = page.locator("#evidence-pack")
    panel.locator("select[name=format]").select_option("pdf")
    panel.get_by_role("button", name="Build evidence pack").click()

    status = page.locator("#pack-status")
    expect(status).to_have_attribute("data-status", "ready", timeout=60_000)
    expect(status).to_contain_text("Ready")
    with page.expect_download() as download_info:
        page.locator("#pack-download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    data = open(download.path(), "rb").read()

    text = " ".join(pdf_text(data).split())
    assert "Evidence pack: KYC document check" in text
    assert SANDBOX_REASON in text and REJECT_REASON in text
    assert "Rae Reviewer" in text and "Audit chain: holds" in text
    event = AuditEvent.objects.get(action="evidence_pack.downloaded")
    assert event.actor == auditor and event.payload["sha256"] == hashlib.sha256(data).hexdigest()

    # The pack is listed on the auditor's Evidence packs page.
    page.get_by_role("link", name="Evidence packs").first.click()
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results")).to_contain_text("KYC document check · all versions")


def test_the_status_page_follows_a_build_done_by_a_worker(as_user, live_server, history, auditor, monkeypatch):
    """As with a real worker: the page shows the pack queued and, polling, turns to the download once built."""
    from packs import services

    monkeypatch.setattr(services, "_queue_build", lambda export_id: None)  # queued; no worker has taken it yet
    export = services.pack_export_request(
        actor=auditor, feature=history["feature"], version=history["v2"], pack_format="html"
    )
    page = as_user(auditor)
    page.goto(f"{live_server.url}{export.get_absolute_url()}")
    expect(page.locator("#pack-status")).to_have_attribute("data-status", "queued")

    services.pack_export_build(export_id=export.pk)  # the worker

    expect(page.locator("#pack-status")).to_have_attribute("data-status", "ready", timeout=15_000)
    expect(page.locator("#pack-download")).to_contain_text("Download the Printable HTML")
