"""The PDF pack, read back, shows the sign-offs with their reasons; the printable HTML is self-contained;
every download is audited with the file's SHA-256."""

import hashlib
import json

import pytest
from django.urls import reverse

from packs import services
from registry.models import AuditEvent
from tests.packs.conftest import REJECT_REASON, SANDBOX_REASON
from tests.packs.helpers import body, pdf_text

pytestmark = pytest.mark.django_db


def built(user, feature, pack_format, version=None):
    export = services.pack_export_request(actor=user, feature=feature, version=version, pack_format=pack_format)
    return services.pack_export_build(export_id=export.pk)


def test_the_pdf_shows_every_signoff_with_its_reason(regulated, auditor, client):
    export = built(auditor, regulated["feature"], "pdf")
    client.force_login(auditor)

    response = client.get(reverse("packs:export_download", args=[export.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"] and ".pdf" in response["Content-Disposition"]
    data = body(response)
    assert data.startswith(b"%PDF")
    text = " ".join(pdf_text(data).split())
    assert "Evidence pack: KYC document check" in text
    assert SANDBOX_REASON in text and REJECT_REASON in text
    assert "Rae Reviewer" in text and "sam-security" in text
    assert "Audit chain: holds" in text
    assert regulated["v2"].config_hash[:40] in text.replace(" ", "")


def test_the_printable_html_has_a_print_stylesheet_and_fetches_nothing(regulated, governance_admin, client):
    export = built(governance_admin, regulated["feature"], "html", version=regulated["v2"])
    client.force_login(governance_admin)

    html = body(client.get(reverse("packs:export_download", args=[export.pk]))).decode()

    assert "@media print" in html and "@page" in html
    assert REJECT_REASON in html
    assert "<link" not in html and "<script" not in html and "src=" not in html


def test_every_download_is_audited_with_the_files_sha256(regulated, auditor, client):
    export = built(auditor, regulated["feature"], "json")
    client.force_login(auditor)

    for _ in range(2):
        data = body(client.get(reverse("packs:export_download", args=[export.pk])))

    assert json.loads(data)["feature"]["slug"] == "kyc-document-check"
    downloads = AuditEvent.objects.filter(action="evidence_pack.downloaded").order_by("sequence")
    assert downloads.count() == 2
    for event in downloads:
        assert event.actor == auditor and event.feature == regulated["feature"] and event.source == "web"
        assert event.payload["sha256"] == hashlib.sha256(data).hexdigest() == export.sha256


def test_a_pack_not_ready_is_not_downloaded_nor_audited(regulated, auditor, client):
    export = services.pack_export_request(actor=auditor, feature=regulated["feature"], pack_format="pdf")
    client.force_login(auditor)

    response = client.get(reverse("packs:export_download", args=[export.pk]), follow=True)

    assert response.redirect_chain[-1][0] == export.get_absolute_url()
    assert "not ready to download" in response.content.decode()
    assert not AuditEvent.objects.filter(action="evidence_pack.downloaded").exists()


def test_the_html_file_is_sent_with_a_policy_of_its_own_and_the_others_with_the_apps(
    regulated, governance_admin, client, settings
):
    """The HTML file's stylesheet is inline (it stands alone), which the app's policy refuses: its download
    carries a policy that allows inline style and nothing else, over the pages and the API alike."""
    html = built(governance_admin, regulated["feature"], "html", version=regulated["v2"])
    pdf = built(governance_admin, regulated["feature"], "pdf", version=regulated["v2"])
    client.force_login(governance_admin)

    for url in (
        reverse("packs:export_download", args=[html.pk]),
        reverse("packs-api:evidence-pack-download", args=[html.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split(";")}
        assert policy["default-src"] == ["'none'"] and policy["style-src"] == ["'unsafe-inline'"], url
        assert "script-src" not in policy and policy["frame-ancestors"] == ["'none'"], url
    response = client.get(reverse("packs:export_download", args=[pdf.pk]))
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
