"""How evidence packs read: a ready pack says "Ready" once and stops polling, the message after asking
does not claim a build is still running, and the pack document uses display labels (Red team, Regulated),
never stored values (red_team, regulated)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from packs import services
from registry.services import evaluation_record
from tests.packs.helpers import body

pytestmark = pytest.mark.django_db


def built(user, feature, pack_format, version=None):
    export = services.pack_export_request(actor=user, feature=feature, version=version, pack_format=pack_format)
    return services.pack_export_build(export_id=export.pk)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_ready_pack_says_ready_once_and_stops_polling(regulated, auditor, client):
    export = built(auditor, regulated["feature"], "json")
    client.force_login(auditor)

    page = client.get(reverse("packs:export_detail", args=[export.pk])).content.decode()
    partial = client.get(reverse("packs:export_detail", args=[export.pk]), HTTP_HX_REQUEST="true").content.decode()

    for html in (page, partial):
        status = html[html.index('id="pack-status"') :]
        assert "Ready Ready" not in text_of(status)
        assert text_of(status).count("Ready") == 1
        assert "hx-trigger" not in status and "Building" not in status
        assert 'id="pack-download"' in status


def test_a_pack_being_built_polls_and_shows_its_step(regulated, auditor, client):
    export = services.pack_export_request(actor=auditor, feature=regulated["feature"], version=None, pack_format="json")
    client.force_login(auditor)

    status = client.get(reverse("packs:export_detail", args=[export.pk]), HTTP_HX_REQUEST="true").content.decode()

    assert 'hx-trigger="every 1s"' in status and "Queued" in status and "Waiting for a worker" in status


def test_the_message_after_asking_does_not_say_building_once_the_pack_is_ready(regulated, auditor, client):
    client.force_login(auditor)
    url = reverse("packs:export_request", args=[regulated["feature"].slug])

    response = client.post(url, {"format": "json"}, follow=True)

    messages = [str(message) for message in response.context["messages"]]
    assert messages and not any("Building" in message for message in messages)
    assert any("Asked for the evidence pack of kyc-document-check" in message for message in messages)


def test_the_pack_document_uses_display_labels_not_stored_values(regulated, governance_admin, ml_engineer, client):
    evaluation_record(
        actor=ml_engineer,
        version=regulated["v2"],
        kind="red_team",
        suite="kyc-injection",
        metric="attack_block_rate",
        score=0.93,
        threshold=0.9,
        run_at=timezone.now() - timedelta(days=1),
    )
    export = built(governance_admin, regulated["feature"], "html")
    client.force_login(governance_admin)

    html = body(client.get(reverse("packs:export_download", args=[export.pk]))).decode()

    assert "<td>Red team</td>" in html and "<td>Safety</td>" in html and "<td>Benchmark</td>" in html
    assert "red_team" not in html.replace("red_team.", "")  # no raw kind (audit action names aside)
    assert "<dt>Risk tier</dt><dd>Regulated" in html
    assert "Regulated gate for production (eu) — rejected" in html and "gate gate" not in html
    assert "<dd>regulated" not in html and "<td>safety</td>" not in html
