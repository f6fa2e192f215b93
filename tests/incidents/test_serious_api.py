"""Serious incidents over the API: their status and clock, marking one, the report drafts, the submissions and
the evidence snapshots, through the same services as the pages, with the same visibility and token scopes."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import EvidenceSnapshot, ReportSubmission
from incidents.reports import as_bytes

pytestmark = pytest.mark.django_db


def api(incident, tail=""):
    return f"/api/v1/incidents/{incident.pk}/{tail}"


def test_the_incident_says_whether_it_is_serious_and_when_the_report_is_due(client, serious_incident, support_agent):
    client.force_login(support_agent)

    detail = client.get(api(serious_incident)).json()
    status = client.get(api(serious_incident, "serious/")).json()

    assert detail["is_serious"] is True and detail["report_overdue"] is False
    assert detail["report_due_at"] == status["report_due_at"]
    assert status["criteria"] == ["rights"] and status["report_days"] == 15 and status["clock_running"] is True
    assert status["decided_by"] == support_agent.username and status["submissions"] == []


def test_marking_serious_through_the_api(client, open_incident, support_agent, auditor):
    incident = open_incident()
    body = {"criteria": ["health"], "death": True, "aware_at": (timezone.now() - timedelta(hours=1)).isoformat()}
    client.force_login(auditor)
    assert client.post(api(incident, "serious/"), body, content_type="application/json").status_code == 403
    client.force_login(support_agent)

    marked = client.post(api(incident, "serious/"), body, content_type="application/json")

    assert marked.status_code == 200 and marked.json()["report_days"] == 10
    assert client.post(api(incident, "serious/"), {"criteria": []}, content_type="application/json").status_code == 400


def test_the_draft_over_the_api_is_the_pages_draft(client, serious_incident, support_agent):
    client.force_login(support_agent)
    as_of = timezone.now().replace(microsecond=0).isoformat()

    answer = client.get(api(serious_incident, "report-draft/"), {"kind": "complete", "as_of": as_of}).json()
    download = client.get(f"/incidents/{serious_incident.pk}/report/json/", {"kind": "complete", "as_of": as_of})

    assert answer["kind"] == "complete" and answer["content"]["kind"] == "complete"
    assert answer["sha256"] == hashlib.sha256(as_bytes(answer["content"])).hexdigest()
    assert answer["sha256"] == download["X-Content-SHA256"]
    assert client.get(api(serious_incident, "report-draft/"), {"kind": "final"}).status_code == 400


def test_a_draft_of_an_incident_that_is_not_serious_is_a_conflict(client, open_incident, support_agent):
    client.force_login(support_agent)

    answer = client.get(api(open_incident(), "report-draft/"))

    assert answer.status_code == 409 and answer.json()["code"] == "conflict"


def test_recording_and_listing_submissions(client, serious_incident, support_agent):
    client.force_login(support_agent)
    draft = client.get(api(serious_incident, "report-draft/")).json()

    created = client.post(
        api(serious_incident, "submissions/"),
        {
            "kind": "initial",
            "authority": "Market surveillance authority",
            "submitted_at": timezone.now().isoformat(),
            "reference": "MSA-7",
            "as_of": draft["as_of"],
            "draft_sha256": draft["sha256"],
        },
        content_type="application/json",
    )

    assert created.status_code == 201 and created.json()["content_sha256"] == draft["sha256"]
    assert ReportSubmission.objects.get().content == draft["content"]
    listed = client.get(api(serious_incident, "submissions/")).json()
    assert [(row["kind"], row["reference"]) for row in listed] == [("initial", "MSA-7")]
    stale = client.post(
        api(serious_incident, "submissions/"),
        {
            "kind": "complete",
            "authority": "Market surveillance authority",
            "submitted_at": timezone.now().isoformat(),
            "as_of": draft["as_of"],
            "draft_sha256": draft["sha256"],  # the initial draft's, not the complete one's
        },
        content_type="application/json",
    )
    assert stale.status_code == 409


def test_snapshots_over_the_api(client, serious_incident, support_agent, ml_engineer):
    client.force_login(ml_engineer)
    client.post(api(serious_incident, "rollback/"), {"reason": "Misrouting."}, content_type="application/json")
    client.force_login(support_agent)

    taken = client.post(api(serious_incident, "snapshots/"), {"note": "After."}, content_type="application/json")
    listed = client.get(api(serious_incident, "snapshots/")).json()

    assert taken.status_code == 201 and taken.json()["trigger"] == "manual"
    assert [row["trigger"] for row in listed] == ["manual", "rollback"] and "content" not in listed[0]
    before = EvidenceSnapshot.objects.get(trigger="rollback")
    detail = client.get(api(serious_incident, f"snapshots/{before.pk}/")).json()
    assert detail["content_sha256"] == before.content_sha256
    assert detail["content"]["rollback"]["from_version"] == 2
    assert client.get(api(serious_incident, "snapshots/999999/")).status_code == 404


def test_a_read_token_reads_and_records_nothing(client, serious_incident, support_agent, bearer):
    headers = bearer(support_agent, name="reader", scopes=("read",))

    assert client.get(api(serious_incident, "report-draft/"), **headers).status_code == 200
    assert client.get(api(serious_incident, "snapshots/"), **headers).status_code == 200
    refused = client.post(api(serious_incident, "snapshots/"), {}, content_type="application/json", **headers)
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert not EvidenceSnapshot.objects.exists()
