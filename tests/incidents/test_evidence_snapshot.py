"""Evidence snapshots: before a rollback from a serious incident changes anything, in its transaction,
Gatehouse keeps what the record held (the live pointers and their full configuration, the evaluations, the
decisions of the impact window) with its SHA-256. It is never changed afterwards; one can be taken by
hand; it is shown and downloadable from the incident, to whoever may see the incident only."""

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from incidents.models import EvidenceSnapshot
from incidents.reports import as_bytes
from incidents.services import incident_open, incident_rollback, incident_snapshot_evidence
from registry.models import AuditEvent, Deployment
from registry.services import deployment_rollback
from tests.incidents.conftest import hours_ago

pytestmark = pytest.mark.django_db


def live_in(feature, region):
    return Deployment.objects.get(feature=feature, environment="production", region=region).version


def test_a_rollback_from_a_serious_incident_keeps_the_evidence_of_what_it_changes(
    serious_incident, tuned, ml_engineer, feature, eu, decided
):
    v1, v2 = tuned
    decided(hours_ago(0, minutes=10), version=v2, region=eu, request_id="req-in-window")
    decided(hours_ago(2), version=v1, region=eu, request_id="req-before-impact")

    event = incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")

    assert live_in(feature, eu) == v1, "the rollback changed the live pointer"
    snapshot = EvidenceSnapshot.objects.get(incident=serious_incident)
    content = snapshot.content
    assert snapshot.trigger == "rollback" and snapshot.taken_by == ml_engineer
    assert snapshot.taken_at <= event.at
    assert content["rollback"] == {
        "environment": "production",
        "region": "eu",
        "from_version": 2,
        "to_version": 1,
        "reason": "Misrouting since v2.",
    }
    eu_row = next(row for row in content["live"] if row["region"] == "eu")
    assert eu_row["version"] == 2 and eu_row["incident_pointer"] is True
    kept_v2 = next(part for part in content["versions"] if part["number"] == 2)
    assert kept_v2["configuration"]["parameters"] == {"temperature": 0.7}
    assert kept_v2["configuration"]["retrieval_index"] == "claims-2026-11"
    assert kept_v2["config_hash"] == v2.config_hash
    assert {evaluation["version"] for evaluation in content["evaluations"]} == {2}
    [decisions] = content["sections"]
    assert decisions["key"] == "decisions" and decisions["data"]["total"] == 1
    assert [row[1] for row in decisions["rows"]] == ["req-in-window"]
    assert snapshot.content_sha256 == hashlib.sha256(as_bytes(content)).hexdigest()


def test_the_snapshot_is_kept_before_the_rollback_in_the_same_transaction(serious_incident, ml_engineer):
    incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")

    trail = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))
    assert trail.index("incident.evidence_snapshot") < trail.index("deployment.rolled_back")
    kinds = list(serious_incident.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-2:] == ["snapshot", "rollback"]


def test_the_snapshot_never_changes_however_the_record_moves_on(serious_incident, tuned, ml_engineer, feature, eu):
    v1, _v2 = tuned
    incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")
    snapshot = EvidenceSnapshot.objects.get(incident=serious_incident)
    digest = snapshot.content_sha256

    assert live_in(feature, eu) == v1
    kept = EvidenceSnapshot.objects.get(pk=snapshot.pk)
    assert next(row for row in kept.content["live"] if row["region"] == "eu")["version"] == 2
    assert kept.content_sha256 == digest == hashlib.sha256(as_bytes(kept.content)).hexdigest()
    kept.note = "edited"
    with pytest.raises(ValueError):
        kept.save()
    with pytest.raises(ValueError):
        kept.delete()
    assert EvidenceSnapshot.objects.get(pk=snapshot.pk).note == "Misrouting since v2."


def test_no_snapshot_when_the_incident_is_not_serious(open_incident, tuned, ml_engineer):
    plain = open_incident(severity="sev1")

    incident_rollback(actor=ml_engineer, incident=plain, reason="Misrouting since v2.")

    assert not EvidenceSnapshot.objects.exists()


def test_a_rollback_that_fails_afterwards_keeps_no_snapshot(
    serious_incident, tuned, ml_engineer, feature, eu, monkeypatch
):
    """The snapshot is written in the rollback's transaction: if the rollback does not happen, neither does it."""
    from registry.services import deployments

    def broken(**_kwargs):
        raise RuntimeError("the signal failed")

    monkeypatch.setattr(deployments.deployment_changed, "send", broken)
    with pytest.raises(RuntimeError):
        incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")

    assert not EvidenceSnapshot.objects.exists()
    assert live_in(feature, eu) == tuned[1]
    with pytest.raises(ValidationError):  # and a rollback refused before anything changes keeps nothing either
        incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Again.", to_version=tuned[1])
    assert not EvidenceSnapshot.objects.exists()


def test_a_rollback_from_the_feature_page_names_no_incident_and_keeps_nothing(
    serious_incident, ml_engineer, feature, eu
):
    deployment_rollback(actor=ml_engineer, feature=feature, environment="production", region=eu, reason="Canary.")

    assert not EvidenceSnapshot.objects.exists()


def test_a_snapshot_taken_by_hand_is_audited_and_on_the_timeline(serious_incident, support_agent):
    snapshot = incident_snapshot_evidence(actor=support_agent, incident=serious_incident, note="  Before the fix.  ")

    assert (snapshot.trigger, snapshot.note, snapshot.content["rollback"]) == ("manual", "Before the fix.", None)
    audit = AuditEvent.objects.get(action="incident.evidence_snapshot")
    assert audit.payload["snapshot"] == snapshot.pk and audit.payload["sha256"] == snapshot.content_sha256
    assert serious_incident.events.filter(kind="snapshot", payload__snapshot=snapshot.pk).exists()


def test_only_those_who_work_the_incident_and_may_see_it_snapshot(
    serious_incident, auditor, outsider, governance_admin, restricted_feature, product_owner, support_agent, eu
):
    for stranger in (auditor, outsider):
        with pytest.raises(PermissionDenied):
            incident_snapshot_evidence(actor=stranger, incident=serious_incident)
    assert incident_snapshot_evidence(actor=governance_admin, incident=serious_incident)
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
    with pytest.raises(PermissionDenied):  # support works incidents, but cannot see this feature
        incident_snapshot_evidence(actor=support_agent, incident=hidden)


def test_the_snapshot_page_and_download(client, serious_incident, ml_engineer, support_agent):
    incident_rollback(actor=ml_engineer, incident=serious_incident, reason="Misrouting since v2.")
    snapshot = EvidenceSnapshot.objects.get()
    client.force_login(support_agent)

    incident_page = client.get(serious_incident.get_absolute_url()).content.decode()
    assert "Evidence snapshots" in incident_page and snapshot.get_absolute_url() in incident_page
    page = client.get(snapshot.get_absolute_url())
    assert page.status_code == 200
    body = page.content.decode()
    assert snapshot.content_sha256 in body and "From v2 to v1" in body and "claims-2026-11" in body
    download = client.get(reverse("incidents:snapshot_json", args=[serious_incident.pk, snapshot.pk]))
    assert download.status_code == 200 and download["X-Content-SHA256"] == snapshot.content_sha256
    assert hashlib.sha256(download.content).hexdigest() == snapshot.content_sha256
    assert json.loads(download.content)["rollback"]["from_version"] == 2


def test_snapshot_now_from_the_incident_page(client, serious_incident, support_agent, auditor):
    client.force_login(auditor)
    page = client.get(serious_incident.get_absolute_url()).content.decode()
    assert "Snapshot evidence now" not in page
    assert client.post(reverse("incidents:snapshot_take", args=[serious_incident.pk])).status_code == 403
    client.force_login(support_agent)
    assert "Snapshot evidence now" in client.get(serious_incident.get_absolute_url()).content.decode()

    response = client.post(reverse("incidents:snapshot_take", args=[serious_incident.pk]), {"note": "Before the fix."})

    assert response.status_code == 302
    assert EvidenceSnapshot.objects.get().note == "Before the fix."


def test_someone_who_cannot_see_the_feature_finds_no_snapshot(
    client, restricted_feature, product_owner, support_agent, eu
):
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
    snapshot = incident_snapshot_evidence(actor=product_owner, incident=hidden)
    client.force_login(support_agent)

    for url in (
        snapshot.get_absolute_url(),
        reverse("incidents:snapshot_json", args=[hidden.pk, snapshot.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("incidents:snapshot_take", args=[hidden.pk])).status_code == 404
    assert client.get(f"/api/v1/incidents/{hidden.pk}/snapshots/{snapshot.pk}/").status_code == 404


@pytest.mark.postgres
def test_the_database_refuses_to_change_a_snapshot_or_a_recorded_submission(serious_incident, support_agent):
    from django.db import DatabaseError, transaction

    from incidents.models import ReportSubmission
    from incidents.services import incident_record_submission

    snapshot = incident_snapshot_evidence(actor=support_agent, incident=serious_incident)
    incident_record_submission(
        actor=support_agent,
        incident=serious_incident,
        kind="initial",
        authority="Market surveillance authority",
        submitted_at=timezone.now(),
    )
    for change in (
        lambda: EvidenceSnapshot.objects.filter(pk=snapshot.pk).update(content={"forged": True}),
        lambda: EvidenceSnapshot.objects.filter(pk=snapshot.pk).delete(),
        lambda: ReportSubmission.objects.update(reference="forged"),
        lambda: ReportSubmission.objects.all().delete(),
    ):
        with pytest.raises(DatabaseError, match="kept as recorded"):
            with transaction.atomic():
                change()

    assert EvidenceSnapshot.objects.get(pk=snapshot.pk).content == snapshot.content
    assert ReportSubmission.objects.get().reference == ""
