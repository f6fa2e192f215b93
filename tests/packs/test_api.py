"""Evidence packs over the API: ask (POST), follow the status, download the file; in the OpenAPI schema."""

import hashlib

import pytest
from django.urls import reverse

from packs.models import PackExport
from registry.models import AuditEvent
from tests.packs.conftest import REJECT_REASON
from tests.packs.helpers import body, pdf_text

pytestmark = pytest.mark.django_db


def test_a_pack_is_asked_for_followed_and_downloaded(regulated, auditor, client, django_capture_on_commit_callbacks):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/evidence-packs/",
            {"feature": "kyc-document-check", "version": 2, "format": "pdf"},
            content_type="application/json",
        )
    assert created.status_code == 202
    export_id = created.json()["id"]

    status = client.get(f"/api/v1/evidence-packs/{export_id}/").json()
    assert (status["feature"], status["version"], status["format"], status["status"], status["progress"]) == (
        "kyc-document-check",
        2,
        "pdf",
        "ready",
        100,
    )
    assert status["download_url"] == f"/api/v1/evidence-packs/{export_id}/download/"

    download = client.get(status["download_url"])
    data = body(download)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert hashlib.sha256(data).hexdigest() == status["sha256"] == download["X-Content-SHA256"]
    assert REJECT_REASON in " ".join(pdf_text(data).split())
    event = AuditEvent.objects.get(action="evidence_pack.downloaded")
    assert (event.source, event.payload["sha256"]) == ("api", status["sha256"])


def test_bad_input_is_refused_saying_why(regulated, auditor, client):
    client.force_login(auditor)
    wrong_format = client.post(
        "/api/v1/evidence-packs/", {"feature": "kyc-document-check", "format": "docx"}, content_type="application/json"
    )
    missing_version = client.post(
        "/api/v1/evidence-packs/", {"feature": "kyc-document-check", "version": 9}, content_type="application/json"
    )
    assert wrong_format.status_code == 400 and "format" in wrong_format.json()
    assert missing_version.status_code == 404
    assert not PackExport.objects.exists()


def test_a_download_before_the_pack_is_ready_is_a_conflict(regulated, auditor, client):
    client.force_login(auditor)
    created = client.post("/api/v1/evidence-packs/", {"feature": "kyc-document-check"}, content_type="application/json")
    assert created.json()["status"] == "queued" and created.json()["download_url"] is None
    response = client.get(f"/api/v1/evidence-packs/{created.json()['id']}/download/")
    assert response.status_code == 409 and "not ready" in response.json()["detail"]


def test_the_list_filters_by_status_and_format(regulated, auditor, client):
    client.force_login(auditor)
    for pack_format in ("json", "pdf"):
        client.post(
            "/api/v1/evidence-packs/",
            {"feature": "kyc-document-check", "format": pack_format},
            content_type="application/json",
        )
    rows = client.get("/api/v1/evidence-packs/?file_format=pdf&status=queued").json()["results"]
    assert [row["format"] for row in rows] == ["pdf"]


def test_the_endpoints_are_in_the_openapi_schema(auditor, client):
    client.force_login(auditor)
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/evidence-packs/"])
    assert "get" in schema["paths"]["/api/v1/evidence-packs/{id}/"]
    download = schema["paths"]["/api/v1/evidence-packs/{id}/download/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
