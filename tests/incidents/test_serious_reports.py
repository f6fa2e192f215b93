"""The report of a serious incident (EU AI Act Art. 73): Gatehouse drafts the initial and the complete report
from the record (the feature, the version live at the time and its configuration, its evaluations, the
decisions of the impact window, the timeline, the corrective actions), people write only what the record
cannot know (audited), and each submission keeps the draft it sent with its SHA-256. A complete report
stops the clock."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from core.exceptions import Conflict
from incidents.models import ReportSubmission
from incidents.reports import as_bytes
from incidents.services import (
    incident_comment,
    incident_open,
    incident_record_submission,
    incident_report_draft,
    incident_rollback,
    incident_transition,
    report_notes_save,
)
from registry.models import AuditEvent
from tests.incidents.conftest import hours_ago

pytestmark = pytest.mark.django_db

AUTHORITY = "Market surveillance authority"


def test_the_initial_draft_is_made_from_the_record(
    serious_incident, tuned, support_agent, ml_engineer, feature, eu, decided
):
    _v1, v2 = tuned
    decided(hours_ago(0, minutes=5), version=v2, region=eu, request_id="req-during")
    incident_comment(actor=ml_engineer, incident=serious_incident, body="Paused the queue rule.", corrective=True)
    incident_comment(actor=ml_engineer, incident=serious_incident, body="Looking at the logs.")
    incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")

    draft, sha256 = incident_report_draft(incident=serious_incident, kind="initial")

    assert draft["kind"] == "initial" and sha256 == hashlib.sha256(as_bytes(draft)).hexdigest()
    assert draft["feature"]["slug"] == feature.slug
    assert draft["serious"]["criteria"][0]["value"] == "rights" and draft["serious"]["report_days"] == 15
    at_impact = draft["version_at_impact"]
    assert at_impact["number"] == 2 and at_impact["configuration"]["parameters"] == {"temperature": 0.7}
    assert at_impact["configuration"]["model"]["identifier"] == v2.model.identifier
    assert at_impact["configuration"]["policy_pack"]["name"] == v2.policy_pack.name
    assert draft["version_live_as_of"] == 1, "rolled back since"
    assert draft["evaluations"] and {evaluation["version"] for evaluation in draft["evaluations"]} == {2}
    [decisions] = draft["sections"]
    assert decisions["data"]["total"] == 1 and decisions["rows"][0][1] == "req-during"
    kinds = [action["kind"] for action in draft["corrective_actions"]]
    assert sorted(kinds) == ["action", "freeze", "rollback"], "the SEV1's freeze, the comment marked, the rollback"
    assert any(action["what"] == "Paused the queue rule." for action in draft["corrective_actions"])
    assert [event["kind"] for event in draft["timeline"]][:2] == ["opened", "serious"]
    assert "resolution" not in draft
    assert "Who was affected, and how, is not written yet." in draft["gaps"]


def test_the_same_moment_gives_the_same_draft_until_what_has_no_history_changes(serious_incident, support_agent):
    as_of = timezone.now()
    first = incident_report_draft(incident=serious_incident, kind="initial", as_of=as_of)

    incident_comment(actor=support_agent, incident=serious_incident, body="Later news.")  # after as_of
    assert incident_report_draft(incident=serious_incident, kind="initial", as_of=as_of) == first
    assert incident_report_draft(incident=serious_incident, kind="initial")[1] != first[1]

    report_notes_save(actor=support_agent, incident=serious_incident, affected_persons="About 40 claimants.")
    changed = incident_report_draft(incident=serious_incident, kind="initial", as_of=as_of)
    assert changed[1] != first[1] and changed[0]["written"]["affected_persons"] == "About 40 claimants."


def test_the_complete_draft_adds_the_resolution(serious_incident, support_agent):
    incident_transition(
        actor=support_agent,
        incident=serious_incident,
        status="resolved",
        root_cause="A queue rule matched on the wrong field.",
        follow_ups="Add a test for the rule\nReview every rule",
    )

    draft, _ = incident_report_draft(incident=serious_incident, kind="complete")

    assert draft["resolution"]["root_cause"] == "A queue rule matched on the wrong field."
    assert draft["resolution"]["follow_ups"] == ["Add a test for the rule", "Review every rule"]
    assert draft["impact_window"]["open"] is False
    assert not any("not resolved" in gap for gap in draft["gaps"])


def test_no_draft_of_an_incident_that_is_not_serious(open_incident):
    with pytest.raises(Conflict):
        incident_report_draft(incident=open_incident(), kind="initial")


def test_the_written_parts_are_audited_and_on_the_timeline(serious_incident, support_agent, auditor, outsider):
    report_notes_save(
        actor=support_agent,
        incident=serious_incident,
        affected_persons="  About 40 claimants.  ",
        root_cause="A queue rule.",
    )
    report_notes_save(actor=support_agent, incident=serious_incident, root_cause="A queue rule.")  # no change

    audit = AuditEvent.objects.get(action="incident.report_notes_changed")
    assert audit.payload["changed"] == {
        "affected_persons": ["", "About 40 claimants."],
        "root_cause": ["", "A queue rule."],
    }
    assert serious_incident.events.filter(kind="report").count() == 1
    for stranger in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            report_notes_save(actor=stranger, incident=serious_incident, root_cause="Guessing.")


def test_a_submission_keeps_the_draft_it_sent(serious_incident, support_agent, governance_admin, product_owner):
    as_of = timezone.now()
    draft, sha256 = incident_report_draft(incident=serious_incident, kind="initial", as_of=as_of)

    submission = incident_record_submission(
        actor=support_agent,
        incident=serious_incident,
        kind="initial",
        authority=f"  {AUTHORITY}  ",
        submitted_at=timezone.now(),
        reference="MSA-2026-0042",
        as_of=as_of,
        draft_sha256=sha256,
    )

    assert (submission.authority, submission.content_sha256, submission.content) == (AUTHORITY, sha256, draft)
    audit = AuditEvent.objects.get(action="incident.report_submitted")
    assert audit.payload["kind"] == "initial" and audit.payload["sha256"] == sha256
    entry = serious_incident.events.get(kind="report")
    assert "Initial report submitted to Market surveillance authority" in entry.body and "MSA-2026-0042" in entry.body
    serious_incident.refresh_from_db()
    assert serious_incident.report_clock_running, "only the complete report stops the clock"
    assert {
        notice.user for notice in governance_admin.notifications.filter(key__startswith="incident-report-submitted")
    }


def test_a_draft_the_record_moved_away_from_is_refused(serious_incident, support_agent):
    as_of = timezone.now()
    _draft, sha256 = incident_report_draft(incident=serious_incident, kind="initial", as_of=as_of)
    report_notes_save(actor=support_agent, incident=serious_incident, affected_persons="Changed since.")

    with pytest.raises(Conflict, match="record changed"):
        incident_record_submission(
            actor=support_agent,
            incident=serious_incident,
            kind="initial",
            authority=AUTHORITY,
            submitted_at=timezone.now(),
            as_of=as_of,
            draft_sha256=sha256,
        )
    assert not ReportSubmission.objects.exists()


def test_the_complete_report_stops_the_clock_once(serious_incident, support_agent, monkeypatch):
    incident_record_submission(
        actor=support_agent,
        incident=serious_incident,
        kind="complete",
        authority=AUTHORITY,
        submitted_at=timezone.now(),
    )
    serious_incident.refresh_from_db()
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=20))

    assert not serious_incident.report_clock_running and not serious_incident.report_overdue
    with pytest.raises(Conflict, match="follow-up"):
        incident_record_submission(
            actor=support_agent,
            incident=serious_incident,
            kind="complete",
            authority=AUTHORITY,
            submitted_at=timezone.now(),
        )
    follow_up = incident_record_submission(
        actor=support_agent,
        incident=serious_incident,
        kind="follow_up",
        authority=AUTHORITY,
        submitted_at=timezone.now(),
    )
    assert follow_up.content["kind"] == "complete"


def test_bad_submissions_are_refused(serious_incident, open_incident, support_agent, auditor, outsider):
    now = timezone.now()
    with pytest.raises(ValidationError):
        incident_record_submission(
            actor=support_agent, incident=serious_incident, kind="initial", authority=" ", submitted_at=now
        )
    with pytest.raises(ValidationError):
        incident_record_submission(
            actor=support_agent,
            incident=serious_incident,
            kind="initial",
            authority=AUTHORITY,
            submitted_at=now + timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        incident_record_submission(
            actor=support_agent,
            incident=serious_incident,
            kind="initial",
            authority=AUTHORITY,
            submitted_at=serious_incident.aware_at - timedelta(hours=1),
        )
    with pytest.raises(Conflict):
        incident_record_submission(
            actor=support_agent, incident=open_incident(), kind="initial", authority=AUTHORITY, submitted_at=now
        )
    for stranger in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            incident_record_submission(
                actor=stranger, incident=serious_incident, kind="initial", authority=AUTHORITY, submitted_at=now
            )
    assert not ReportSubmission.objects.exists()


# --- Pages ----------------------------------------------------------------------------------------


def test_the_report_page_shows_the_draft_and_its_download_matches(client, serious_incident, support_agent):
    client.force_login(support_agent)

    page = client.get(reverse("incidents:report", args=[serious_incident.pk]))

    assert page.status_code == 200
    body = page.content.decode()
    sha256, as_of = page.context["sha256"], page.context["as_of"]
    assert "Initial report of serious incident" in body and sha256 in body
    assert "Record the submission" in body and "Save the written parts" in body
    download = client.get(
        reverse("incidents:report_json", args=[serious_incident.pk]), {"kind": "initial", "as_of": as_of}
    )
    assert download.status_code == 200 and download["X-Content-SHA256"] == sha256
    assert hashlib.sha256(download.content).hexdigest() == sha256
    assert json.loads(download.content)["incident"]["reference"] == serious_incident.reference


def test_recording_from_the_page_keeps_what_was_read_and_shows_on_the_clock(client, serious_incident, support_agent):
    client.force_login(support_agent)
    page = client.get(reverse("incidents:report", args=[serious_incident.pk]))
    form = page.context["submission_form"]
    client.post(
        reverse("incidents:report_notes", args=[serious_incident.pk]),
        {"affected_persons": "About 40 claimants.", "draft_kind": "initial"},
    )

    refused = client.post(
        reverse("incidents:report_submit", args=[serious_incident.pk]),
        {
            "kind": "initial",
            "authority": AUTHORITY,
            "submitted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "as_of": form.initial["as_of"],
            "draft_sha256": form.initial["draft_sha256"],
        },
    )
    assert refused.status_code == 422 and "record changed" in refused.content.decode()

    page = client.get(reverse("incidents:report", args=[serious_incident.pk]))
    form = page.context["submission_form"]
    recorded = client.post(
        reverse("incidents:report_submit", args=[serious_incident.pk]),
        {
            "kind": "initial",
            "authority": AUTHORITY,
            "submitted_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "reference": "MSA-1",
            "as_of": form.initial["as_of"],
            "draft_sha256": form.initial["draft_sha256"],
            "draft_kind": "initial",
        },
    )
    assert recorded.status_code == 302
    submission = ReportSubmission.objects.get()
    assert submission.content_sha256 == form.initial["draft_sha256"]
    assert submission.content["written"]["affected_persons"] == "About 40 claimants."
    clock = client.get(serious_incident.get_absolute_url()).content.decode()
    assert "Initial report submitted on" in clock and "The complete report is pending" in clock
    # The next draft to send is the complete one.
    assert client.get(reverse("incidents:report", args=[serious_incident.pk])).context["kind"] == "complete"


def test_auditors_read_the_report_and_change_nothing(client, serious_incident, auditor):
    client.force_login(auditor)

    page = client.get(reverse("incidents:report", args=[serious_incident.pk]))

    assert page.status_code == 200 and "Record the submission" not in page.content.decode()
    for name in ("incidents:report_notes", "incidents:report_submit", "incidents:snapshot_take"):
        assert client.post(reverse(name, args=[serious_incident.pk]), {}).status_code == 403, name


def test_an_incident_that_is_not_serious_has_no_draft(client, open_incident, support_agent):
    incident = open_incident()
    client.force_login(support_agent)

    page = client.get(reverse("incidents:report", args=[incident.pk]))
    download = client.get(reverse("incidents:report_json", args=[incident.pk]))

    assert page.status_code == 200 and "is not marked serious" in page.content.decode()
    assert download.status_code == 302


def test_someone_who_cannot_see_the_feature_finds_no_report(
    client, restricted_feature, product_owner, support_agent, eu
):
    from incidents.services import incident_mark_serious

    hidden = incident_open(
        actor=product_owner,
        feature=restricted_feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=hours_ago(1),
        title="Fraud signals misfire",
        description="Flags good payments.",
    )
    incident_mark_serious(actor=product_owner, incident=hidden, criteria=["rights"], aware_at=timezone.now())
    client.force_login(support_agent)

    for url in (
        reverse("incidents:report", args=[hidden.pk]),
        reverse("incidents:report_json", args=[hidden.pk]),
        f"/api/v1/incidents/{hidden.pk}/report-draft/",
        f"/api/v1/incidents/{hidden.pk}/serious/",
        f"/api/v1/incidents/{hidden.pk}/submissions/",
    ):
        assert client.get(url).status_code == 404, url
    for name in ("incidents:report_notes", "incidents:report_submit"):
        assert client.post(reverse(name, args=[hidden.pk]), {"authority": "x"}).status_code == 404, name
