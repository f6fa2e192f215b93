"""A pack goes queued → building (with its progress and step) → ready, or failed with the reason; the status
page polls while it builds and offers the download once ready; a build that runs twice builds once."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from packs import services
from packs.choices import ExportStatus
from packs.models import PackExport
from registry.models import AuditEvent

pytestmark = pytest.mark.django_db


def ask(user, feature, *, version=None, pack_format="json"):
    """Ask without running the queued build (the commit's callbacks are not run here)."""
    return services.pack_export_request(actor=user, feature=feature, version=version, pack_format=pack_format)


def test_a_requested_pack_waits_queued_and_its_request_is_audited(regulated, auditor):
    export = ask(auditor, regulated["feature"], version=regulated["v2"])

    assert (export.status, export.progress, export.file.name) == (ExportStatus.QUEUED, 0, "")
    event = AuditEvent.objects.get(action="evidence_pack.requested")
    assert (event.actor, event.feature, event.object_id) == (auditor, regulated["feature"], str(export.pk))
    assert event.payload == {"format": "json", "version": 2, "scope": "version"}


def test_the_build_reports_each_step_then_stores_the_file_with_its_sha256(regulated, auditor, monkeypatch):
    export = ask(auditor, regulated["feature"])
    seen = []
    real_report = services._report

    def spy(export_id, percent, step):
        real_report(export_id, percent, step)
        row = PackExport.objects.get(pk=export_id)
        seen.append((row.status, row.progress, row.step))

    monkeypatch.setattr(services, "_report", spy)
    built = services.pack_export_build(export_id=export.pk)

    assert all(status == ExportStatus.BUILDING for status, _, _ in seen)
    percents = [percent for _, percent, _ in seen]
    assert percents == sorted(percents) and percents[0] < 50 < percents[-1] < 100
    assert "Verifying the audit chain" in [step for _, _, step in seen]
    assert (built.status, built.progress, built.step) == (ExportStatus.READY, 100, "Ready")
    data = built.file.read()
    assert built.size == len(data) and built.sha256 == hashlib.sha256(data).hexdigest()
    assert built.started_at <= built.finished_at
    event = AuditEvent.objects.get(action="evidence_pack.built")
    assert event.payload["sha256"] == built.sha256 and event.payload["chain_holds"] is True


def test_a_failed_build_says_why_and_offers_to_ask_again(regulated, auditor, client, monkeypatch):
    export = ask(auditor, regulated["feature"], pack_format="pdf")
    monkeypatch.setattr(services, "render_pack", lambda content, pack_format: 1 / 0)

    failed = services.pack_export_build(export_id=export.pk)

    assert failed.status == ExportStatus.FAILED and "ZeroDivisionError" in failed.error
    assert AuditEvent.objects.filter(action="evidence_pack.failed", object_id=str(export.pk)).exists()
    client.force_login(auditor)
    page = client.get(reverse("packs:export_detail", args=[export.pk])).content.decode()
    assert "could not be built" in page and "ZeroDivisionError" in page and "Ask again" in page
    assert "hx-trigger" not in page


def test_a_second_run_of_the_task_builds_nothing_more(regulated, auditor):
    export = ask(auditor, regulated["feature"])
    first = services.pack_export_build(export_id=export.pk)
    again = services.pack_export_build(export_id=export.pk)

    assert (again.status, again.sha256) == (ExportStatus.READY, first.sha256)
    assert AuditEvent.objects.filter(action="evidence_pack.built").count() == 1


def test_a_build_whose_worker_died_is_taken_over_but_a_live_one_is_not(regulated, auditor):
    export = ask(auditor, regulated["feature"])
    PackExport.objects.filter(pk=export.pk).update(status=ExportStatus.BUILDING, started_at=timezone.now())
    assert services.pack_export_build(export_id=export.pk).status == ExportStatus.BUILDING

    PackExport.objects.filter(pk=export.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert services.pack_export_build(export_id=export.pk).status == ExportStatus.READY


def test_the_status_page_polls_while_building_and_offers_the_download_when_ready(regulated, auditor, client):
    export = ask(auditor, regulated["feature"], pack_format="html")
    PackExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.BUILDING, progress=35, step="Collecting gate requests and sign-offs"
    )
    client.force_login(auditor)
    url = reverse("packs:export_detail", args=[export.pk])

    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page and "Collecting gate requests and sign-offs" in page
    assert 'value="35"' in page and "pack-download" not in page
    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.templates[0].name == "packs/partials/export_status.html"

    PackExport.objects.filter(pk=export.pk).update(status=ExportStatus.QUEUED)
    services.pack_export_build(export_id=export.pk)
    ready = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in ready
    assert reverse("packs:export_download", args=[export.pk]) in ready
    assert PackExport.objects.get(pk=export.pk).sha256 in ready


def test_asking_from_the_page_runs_the_task_after_the_commit(
    regulated, auditor, client, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("packs:export_request", args=["kyc-document-check"]), {"format": "json"})

    export = PackExport.objects.get()
    assert response.status_code == 302 and response["Location"] == export.get_absolute_url()
    assert export.status == ExportStatus.READY  # Celery runs in-process in the tests
    assert AuditEvent.objects.get(action="evidence_pack.built").source == "task"
