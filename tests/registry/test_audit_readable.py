"""The audit trail as people read it: names, reasons and field-by-field changes; links only where the
reader may go; filters and a CSV download of what the page lists; verifying the chain from the web."""

import csv
import io
import json

import pytest
from django.db import transaction
from django.urls import reverse

from registry.audit_display import action_label, present
from registry.models import AuditEvent, AuditVerificationRun
from registry.services import audit_record, feature_update, prompt_version_create
from registry.services.audit_runs import ALREADY_RUNNING, verification_start
from tests.factories import FeatureFactory

PURPOSE = "Sorts incoming claims by urgency so handlers see the urgent ones first."


@pytest.fixture
def feature(team, product_owner):
    return FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        accountable_owner=product_owner,
        purpose="Sorts claims.",
    )


@pytest.fixture
def updated(feature, product_owner):
    """A real edit through the service: a purpose rewritten, with the reason the service was given."""
    feature_update(
        actor=product_owner, feature=feature, reason="The old purpose did not say who it helps.", purpose=PURPOSE
    )
    return AuditEvent.objects.get(action="feature.updated", object_id=str(feature.pk))


@pytest.fixture
def hidden(other_team):
    return FeatureFactory(slug="fraud-signals", name="Fraud signals", team=other_team, restricted=True)


def rows_of(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))


# --- One rendering ----------------------------------------------------------------------------------------


def test_a_feature_update_reads_as_who_what_why_and_old_to_new(client, auditor, updated, product_owner):
    product_owner.first_name, product_owner.last_name = "Pat", "Owner"
    product_owner.save()
    client.force_login(auditor)

    page = client.get(reverse("registry:audit_list")).content.decode()

    assert "Feature updated" in page and 'title="feature.updated"' in page  # words, the code on hover
    assert 'title="pat-product">Pat Owner</span>' in page  # full name, username on hover
    assert '<td class="audit-reason" data-label="Reason">The old purpose did not say who it helps.</td>' in page
    assert '<span class="audit-field" title="purpose">Purpose</span>' in page
    assert "Sorts claims." in page and PURPOSE in page
    assert f'<a href="{reverse("registry:feature_detail", args=["claims-triage"])}">Claims triage</a>' in page
    assert "Raw payload" in page  # the stored payload, one click away
    assert "{&#x27;changes&#x27;" not in page and "aifeature " not in page  # no Python dict, no internal name
    assert f'title="{updated.hash}">{updated.hash[:10]}…</span>' in page  # short hash, the whole on hover
    assert f'data-copy="{updated.hash}"' in page


def test_the_diff_is_field_by_field_with_old_and_new_and_the_reason_apart(updated, auditor):
    [shown] = present([updated], auditor)

    [row] = shown.changes
    assert (row.label, row.old.short, row.new.short) == ("Purpose", "Sorts claims.", PURPOSE)
    assert shown.reason == "The old purpose did not say who it helps."
    assert shown.action_label == "Feature updated"
    assert not any(detail.key == "reason" for detail in shown.details)


def test_long_text_is_cut_with_the_whole_text_kept(feature, product_owner, auditor):
    long_purpose = "A purpose that goes on. " * 20
    feature_update(actor=product_owner, feature=feature, reason="Longer.", purpose=long_purpose)
    event = AuditEvent.objects.get(action="feature.updated")

    [row] = present([event], auditor)[0].changes

    assert len(row.new.short) < len(long_purpose) and row.new.short.endswith("…")
    assert row.new.full == long_purpose.strip() or row.new.full == long_purpose


def test_lists_and_dicts_read_as_text_not_python(db):
    event = AuditEvent(
        action="gate_policy.updated",
        object_type="gatepolicy",
        object_id="1",
        object_repr="Production gate",
        payload={
            "old": {"review_sla_hours": 48, "signoffs": [{"role": "legal", "count": 1}]},
            "new": {"review_sla_hours": 24, "signoffs": [{"role": "legal", "count": 2}]},
        },
    )
    [shown] = present([event], None)

    rows = {row.key: (row.old.short, row.new.short) for row in shown.changes}
    assert rows == {"review_sla_hours": ("48", "24"), "signoffs": ("role: legal; count: 1", "role: legal; count: 2")}
    assert action_label("signoff.approved") == "Sign-off approved"


def test_the_feature_page_and_the_request_page_share_the_rendering(client, updated, product_owner):
    client.force_login(product_owner)

    page = client.get(reverse("registry:feature_detail", args=["claims-triage"])).content.decode()

    assert "Feature updated" in page and "The old purpose did not say who it helps." in page
    assert '<span class="audit-field" title="purpose">Purpose</span>' in page
    assert "{&#x27;changes&#x27;" not in page


def test_an_object_without_a_recorded_name_is_named_by_its_kind_never_its_model_name(feature, auditor):
    with transaction.atomic():
        event = audit_record(
            actor=None, action="approval.expired", object_type="approvalrequest", object_id=19, feature=feature
        )
    [shown] = present([event], auditor)

    assert shown.object_label == "Approval request #19"
    assert shown.object_url == ""  # no request 19: nothing to link


# --- Visibility -------------------------------------------------------------------------------------------


def test_an_object_the_reader_may_not_see_is_neither_linked_nor_named(client, feature, hidden, product_owner):
    """An event on a visible feature that points at a restricted feature: its team's member sees the event,
    but not the restricted feature's name or a link to it."""
    with transaction.atomic():
        audit_record(actor=None, action="feature.linked", object_type="aifeature", object_id=hidden.pk, feature=feature)
    client.force_login(product_owner)

    page = client.get(reverse("registry:feature_detail", args=["claims-triage"])).content.decode()

    assert "Feature linked" in page
    assert f"Feature #{hidden.pk}" in page
    assert "fraud-signals" not in page and "Fraud signals" not in page
    [shown] = present(AuditEvent.objects.filter(action="feature.linked"), product_owner)
    assert shown.object_url == ""


def test_the_same_object_is_linked_for_a_reader_who_may_see_it(hidden, auditor, outsider, feature):
    with transaction.atomic():
        event = audit_record(actor=None, action="feature.linked", target=hidden, feature=hidden)

    assert present([event], auditor)[0].object_url == reverse("registry:feature_detail", args=["fraud-signals"])
    assert present([event], outsider)[0].object_url == ""


# --- Filters and CSV --------------------------------------------------------------------------------------


def test_actions_are_chosen_among_those_the_trail_holds_in_words(client, auditor, updated):
    client.force_login(auditor)

    page = client.get(reverse("registry:audit_list")).content.decode()

    assert '<option value="feature.updated">Feature updated</option>' in page
    assert '<option value="vendor.created">' not in page  # not in this trail


def test_filters_by_object_actor_action_and_sequence(client, auditor, updated, feature, ml_engineer):
    with transaction.atomic():
        prompt_version_create(actor=ml_engineer, name="triage", template="Sort {{ claim }}")
    client.force_login(auditor)
    url = reverse("registry:audit_list")

    def listed(query):
        return [event.sequence for event in client.get(url, query).context["object_list"]]

    assert listed({"action": "feature.updated"}) == [updated.sequence]
    assert listed({"actor": "pat-product", "action": "feature.updated"}) == [updated.sequence]
    assert listed({"object": "Claims tri"}) == [updated.sequence]
    assert listed({"object": str(feature.pk), "object_type": "aifeature"}) == [updated.sequence]
    assert listed({"sequence": updated.sequence}) == [updated.sequence]
    assert listed({"feature": "claims-triage"}) == [updated.sequence]


def test_the_csv_holds_the_filtered_trail_with_its_columns(client, auditor, updated, ml_engineer):
    with transaction.atomic():
        prompt_version_create(actor=ml_engineer, name="triage", template="Sort {{ claim }}")
    client.force_login(auditor)

    response = client.get(reverse("registry:audit_download"), {"action": "feature.updated"})

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    [row] = rows_of(response)
    assert list(row) == [
        "sequence",
        "at",
        "actor",
        "source",
        "action",
        "object type",
        "object id",
        "object name",
        "feature",
        "reason",
        "changes",
        "request id",
        "hash",
    ]
    assert row["sequence"] == str(updated.sequence) and row["hash"] == updated.hash
    assert row["action"] == "feature.updated" and row["feature"] == "claims-triage"
    assert row["object name"] == "Claims triage" and row["reason"] == "The old purpose did not say who it helps."
    assert json.loads(row["changes"]) == {"changes": {"purpose": ["Sorts claims.", PURPOSE]}}
    assert row["at"] == updated.at.isoformat()


def test_the_csv_is_for_trail_readers_only(client, product_owner, updated):
    client.force_login(product_owner)

    response = client.get(reverse("registry:audit_download"))

    assert response.status_code == 403
    assert "claims-triage" not in response.content.decode()


def test_a_csv_cell_that_would_run_as_a_formula_is_text(client, auditor, feature, product_owner):
    feature_update(actor=product_owner, feature=feature, reason='=HYPERLINK("http://evil")', purpose="New.")
    client.force_login(auditor)

    [row] = rows_of(client.get(reverse("registry:audit_download"), {"action": "feature.updated"}))

    assert row["reason"] == '\'=HYPERLINK("http://evil")'


# --- Verifying from the web -------------------------------------------------------------------------------


def test_a_verification_walks_the_chain_and_records_the_range_and_head(
    client, governance_admin, updated, django_capture_on_commit_callbacks
):
    client.force_login(governance_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:audit_verify"))

    run = AuditVerificationRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("registry:audit_verify_run", args=[run.pk])
    assert run.status == "passed" and run.first_bad_sequence is None
    started = AuditEvent.objects.get(action="audit.verification_started")
    assert started.actor_id == governance_admin.pk
    assert (run.first_sequence, run.last_sequence, run.checked) == (1, started.sequence, started.sequence)
    assert run.head_hash == started.hash
    assert AuditEvent.objects.filter(action="audit.verification_passed").exists()
    page = client.get(response["Location"]).content.decode()
    assert "the chain holds" in page and run.head_hash in page
    assert 'hx-trigger="every 1s"' not in page  # finished: the page stops polling


def test_a_tampered_chain_fails_at_the_first_bad_event_with_a_link_to_it(
    client, auditor, ml_engineer, tamper, django_capture_on_commit_callbacks
):
    for name in ("alpha", "bravo", "charlie", "delta"):
        prompt_version_create(actor=ml_engineer, name=name, template=f"{name} {{{{ x }}}}")
    AuditEvent.objects.filter(sequence=2).update(payload={"tampered": True})
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("registry:audit_verify"))

    run = AuditVerificationRun.objects.get()
    assert run.status == "failed" and run.first_bad_sequence == 2
    assert run.problems[0] == {"sequence": 2, "message": "event #2 was altered"}
    page = client.get(reverse("registry:audit_verify_run", args=[run.pk])).content.decode()
    assert f'href="{reverse("registry:audit_list")}?sequence=2">#2</a>: event #2 was altered' in page


def test_a_running_verification_is_polled_and_a_second_is_refused(client, auditor, governance_admin):
    client.force_login(auditor)
    run = verification_start(actor=auditor)  # not committed-callback executed: it stays running

    page = client.get(reverse("registry:audit_verify_run", args=[run.pk]), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in page.content.decode()
    assert "0 of" in page.content.decode()

    client.force_login(governance_admin)
    response = client.post(reverse("registry:audit_verify"), follow=True)
    assert ALREADY_RUNNING in response.content.decode()
    assert AuditVerificationRun.objects.count() == 1


def test_verification_is_for_trail_readers_only(client, product_owner):
    client.force_login(product_owner)

    assert client.get(reverse("registry:audit_verify")).status_code == 403
    assert client.post(reverse("registry:audit_verify")).status_code == 403
    assert not AuditVerificationRun.objects.exists()


def test_the_audit_page_links_the_verification_page(client, auditor):
    client.force_login(auditor)

    page = client.get(reverse("registry:audit_list")).content.decode()

    assert reverse("registry:audit_verify") in page and "Verify the trail" in page


def test_a_creation_shows_its_first_fields_and_folds_the_rest(client, auditor, team, product_owner, eu):
    from registry.services import feature_create

    feature_create(
        actor=product_owner,
        regions=[eu],
        slug="claims-summary",
        name="Claims summary",
        purpose="Summaries.",
        team=team,
        accountable_owner=product_owner,
        incident_owner=product_owner,
        risk_tier="low",
        intended_uses="Drafts.",
        disallowed_uses="Decisions.",
        data_classification="internal",
    )
    [shown] = present(AuditEvent.objects.filter(action="feature.created"), auditor)

    assert [row.key for row in shown.changes][:2] == ["slug", "name"] and len(shown.changes) == 6
    assert "regions" in [row.key for row in shown.more]
    client.force_login(auditor)
    assert f"{len(shown.more)} more fields</summary>" in client.get(reverse("registry:audit_list")).content.decode()


def test_the_api_starts_a_verification_and_answers_its_result(auditor, updated, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(auditor)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/api/v1/audit-verifications/")

    assert started.status_code == 202
    run = client.get(f"/api/v1/audit-verifications/{started.json()['id']}/").json()
    assert run["status"] == "passed" and run["started_by"] == "aude-auditor"
    assert run["head_hash"] == AuditEvent.objects.get(action="audit.verification_started").hash
    AuditVerificationRun.objects.update(status="running")
    again = client.post("/api/v1/audit-verifications/")
    assert again.status_code == 409 and again.json()["detail"] == ALREADY_RUNNING
