"""ISO/IEC 42001's Statement of Applicability and the NIST AI RMF crosswalk: governance decides each control
with a reason and an owner, links the Gatehouse records that show it, and every change is audited; each reader
sees only the evidence of features they may see, on the pages, in the API and in the exports."""

import csv
import hashlib
import io
import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from compliance import standards_selectors
from compliance.models import ControlStatement, RmfSubcategory, StandardEvidence
from compliance.services.standards import control_update, evidence_link, evidence_unlink, subcategory_update
from compliance.standards import ISO_CONTROLS, NIST_SUBCATEGORIES
from registry.models import AuditEvent
from tests.factories import FeatureFactory, VersionFactory


@pytest.fixture
def restricted(other_team):
    """A restricted feature of another team, with a version: who is not in that team never sees it."""
    feature = FeatureFactory(slug="fraud-signals", name="Fraud signals", team=other_team, restricted=True)
    VersionFactory(feature=feature, number=1)
    return feature


def test_the_catalogues_hold_every_annex_a_control_and_rmf_subcategory(governance_admin):
    rows = standards_selectors.control_rows(governance_admin)
    assert [row.id for row in rows][:3] == ["A.2.2", "A.2.3", "A.2.4"] and rows[-1].id == "A.10.4"
    assert len(rows) == 38 and {row.control.clause for row in rows} == {f"A.{n}" for n in range(2, 11)}
    assert all(row.statement.applicability == "undecided" for row in rows)  # nothing decided: nothing stored
    subs = standards_selectors.subcategory_rows(governance_admin)
    assert len(subs) == 72
    assert {sub.subcategory.function for sub in subs} == {"GOVERN", "MAP", "MEASURE", "MANAGE"}
    assert all(sub.controls for sub in subs)  # each starts mapped onto at least one Annex A control
    assert len(ISO_CONTROLS) == 38 and len(NIST_SUBCATEGORIES) == 72


def test_governance_decides_a_control_with_a_reason_and_an_owner_and_it_is_audited(
    governance_admin, product_owner, ml_engineer
):
    with pytest.raises(PermissionDenied):
        control_update(
            actor=product_owner, control_id="A.6.2.4", applicability="applicable", implementation="planned",
            justification="Evaluations.", owner=ml_engineer,
        )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        control_update(
            actor=governance_admin, control_id="A.6.2.4", applicability="applicable", implementation="planned",
            justification="", owner=None,
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"justification", "owner"}
    with pytest.raises(ValidationError) as refused:
        control_update(
            actor=governance_admin, control_id="A.4.5", applicability="excluded", implementation="implemented",
            justification="The cloud's.", owner=None,
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"implementation"}  # excluded is never "in place"
    with pytest.raises(ValidationError):
        control_update(
            actor=governance_admin, control_id="A.99", applicability="excluded", implementation="not_started",
            justification="No such control.", owner=None,
        )  # fmt: skip
    assert not ControlStatement.objects.exists() and not AuditEvent.objects.filter(action__startswith="compliance.")

    control_update(
        actor=governance_admin, control_id="A.6.2.4", applicability="applicable", implementation="planned",
        justification="Every version carries its evaluations.", owner=ml_engineer,
    )  # fmt: skip
    control_update(
        actor=governance_admin, control_id="A.6.2.4", applicability="applicable", implementation="implemented",
        justification="Every version carries its evaluations.", owner=ml_engineer,
    )  # fmt: skip
    events = list(AuditEvent.objects.filter(action="compliance.control_updated").order_by("sequence"))
    assert len(events) == 2
    assert events[0].payload["changes"]["owner"] == [None, ml_engineer.username]
    assert events[1].payload["changes"] == {"implementation": ["planned", "implemented"]}
    # Saving what is already there records nothing.
    control_update(
        actor=governance_admin, control_id="A.6.2.4", applicability="applicable", implementation="implemented",
        justification="Every version carries its evaluations.", owner=ml_engineer,
    )  # fmt: skip
    assert AuditEvent.objects.filter(action="compliance.control_updated").count() == 2
    row = standards_selectors.control_row(governance_admin, "A.6.2.4")
    assert row.statement.owner == ml_engineer and row.statement.updated_by == governance_admin


def test_evidence_is_a_record_found_by_its_page_and_who_may_not_see_its_feature_sees_no_trace(
    governance_admin, auditor, product_owner, security_reviewer, feature, restricted
):
    version_page = reverse("registry:version_detail", args=[restricted.slug, 1])
    with pytest.raises(ValidationError) as refused:
        evidence_link(actor=governance_admin, control_id="A.6.2.4", reference="https://example.test/nowhere/")
    assert "Paste the address" in refused.value.message_dict["reference"][0]
    with pytest.raises(ValidationError) as refused:  # a page that names no record
        evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=reverse("compliance:soa"))
    with pytest.raises(PermissionDenied):
        evidence_link(actor=product_owner, control_id="A.6.2.4", reference=feature.get_absolute_url())

    shown = evidence_link(
        actor=governance_admin, control_id="A.6.2.4", reference=f"https://gatehouse.example.test{version_page}?x=1"
    )
    assert (shown.object_type, shown.label, shown.feature) == (
        "featureversion",
        "Version 1 of Fraud signals",
        restricted,
    )
    evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=feature.get_absolute_url())
    with pytest.raises(ValidationError):  # the same record twice
        evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=version_page)

    for reader in (governance_admin, auditor):  # they see every feature
        labels = [link.label for link in standards_selectors.control_row(reader, "A.6.2.4").evidence]
        assert labels == ["Version 1 of Fraud signals", f"Feature: {feature.name}"]
    for reader in (product_owner, security_reviewer):
        row = standards_selectors.control_row(reader, "A.6.2.4")
        assert [link.label for link in row.evidence] == [f"Feature: {feature.name}"]
        assert row.evidence[0].url == feature.get_absolute_url()
        assert standards_selectors.summary(standards_selectors.control_rows(reader))["evidenced"] == 1
    # A subcategory mapped onto the control shows the same evidence, filtered the same way.
    measure = standards_selectors.subcategory_row(security_reviewer, "MEASURE-2.5")
    assert measure.controls == ["A.6.2.4"] and [link.label for link in measure.evidence] == [f"Feature: {feature.name}"]
    # The audit event of the link carries the feature: who may not see the feature does not see the event.
    linked = AuditEvent.objects.get(action="compliance.control_evidence_linked", payload__object_type="featureversion")
    assert linked.feature_id == restricted.pk
    # Nor the page: the restricted feature's name is nowhere in it.
    client = APIClient()
    client.force_login(security_reviewer)
    for url in (reverse("compliance:soa"), reverse("compliance:control", args=["A.6.2.4"])):
        body = client.get(url).content.decode()
        assert feature.name in body and "Fraud signals" not in body
    body = client.get(reverse("compliance-api:control", args=["A.6.2.4"])).json()
    assert [item["label"] for item in body["evidence"]] == [f"Feature: {feature.name}"]

    evidence_unlink(actor=governance_admin, link=shown)
    assert not StandardEvidence.objects.filter(pk=shown.pk).exists()
    assert AuditEvent.objects.filter(action="compliance.control_evidence_unlinked", feature=restricted).exists()


def test_a_restricted_record_cannot_be_linked_by_whoever_may_not_see_it(governance_admin, restricted, other_team):
    from tests.factories import UserFactory

    governance_elsewhere = UserFactory(username="gov-two", roles=["governance"])
    assert evidence_link(actor=governance_elsewhere, control_id="A.3.2", reference=restricted.get_absolute_url())
    # A reference that names nothing answers as a missing record does.
    with pytest.raises(ValidationError) as refused:
        evidence_link(actor=governance_admin, control_id="A.3.2", reference="/features/no-such-feature/")
    assert refused.value.message_dict["reference"] == ["No such record, or it is restricted."]


def test_the_crosswalk_is_edited_by_governance_and_audited(governance_admin, ml_engineer, feature):
    evidence_link(actor=governance_admin, control_id="A.4.2", reference=feature.get_absolute_url())
    assert standards_selectors.subcategory_row(governance_admin, "GOVERN-1.6").evidence  # mapped to A.4.2
    with pytest.raises(PermissionDenied):
        subcategory_update(
            actor=ml_engineer, subcategory_id="GOVERN 1.6", controls=[], implementation="planned", notes=""
        )
    with pytest.raises(ValidationError) as refused:
        subcategory_update(
            actor=governance_admin, subcategory_id="GOVERN 1.6", controls=["A.42"], implementation="implemented",
            notes="",
        )  # fmt: skip
    assert set(refused.value.message_dict) == {"controls"}
    with pytest.raises(ValidationError) as refused:
        subcategory_update(
            actor=governance_admin, subcategory_id="GOVERN 1.6", controls=[], implementation="implemented", notes=""
        )
    assert set(refused.value.message_dict) == {"notes"}

    subcategory_update(
        actor=governance_admin, subcategory_id="GOVERN 1.6", controls=["A.6.2.7", "A.4.2"],
        implementation="implemented", notes="The registry is the inventory.", owner=ml_engineer,
    )  # fmt: skip
    decision = RmfSubcategory.objects.get(subcategory_id="GOVERN 1.6")
    assert decision.controls == ["A.4.2", "A.6.2.7"] and decision.owner == ml_engineer
    event = AuditEvent.objects.get(action="compliance.rmf_updated")
    assert event.payload["changes"]["controls"] == [["A.4.2"], ["A.4.2", "A.6.2.7"]]
    # The control's page lists the subcategory as one it shows.
    assert "GOVERN 1.6" in standards_selectors.control_row(governance_admin, "A.6.2.7").subcategories


def test_the_exports_carry_the_readers_evidence_and_their_sha256_is_audited(
    governance_admin, security_reviewer, feature, restricted, ml_engineer
):
    control_update(
        actor=governance_admin, control_id="A.6.2.4", applicability="applicable", implementation="implemented",
        justification="=HYPERLINK(\"x\") evaluations on every version.", owner=ml_engineer,
    )  # fmt: skip
    evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=feature.get_absolute_url())
    evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=restricted.get_absolute_url())
    client = APIClient()
    client.force_login(security_reviewer)

    response = client.get(reverse("compliance-api:soa-export"), {"file_format": "json"})
    assert response.status_code == 200
    assert response["X-Content-SHA256"] == hashlib.sha256(response.content).hexdigest()
    data = json.loads(response.content)
    control = next(item for item in data["controls"] if item["id"] == "A.6.2.4")
    assert [item["label"] for item in control["evidence"]] == [f"Feature: {feature.name}"]
    assert len(data["controls"]) == 38 and len(data["nist_ai_rmf"]) == 72
    assert "Fraud signals" not in response.content.decode()
    event = AuditEvent.objects.get(action="compliance.soa_exported")
    assert event.payload["sha256"] == response["X-Content-SHA256"] and event.actor == security_reviewer

    response = client.get(reverse("compliance:soa_export", args=["csv"]))
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    row = next(item for item in rows if item["control"] == "A.6.2.4")
    assert row["justification"].startswith("'=")  # never read as a formula
    assert row["evidence"] == f"Feature: {feature.name}" and "MEASURE 2.5" in row["nist_ai_rmf"]

    response = client.get(reverse("compliance:soa_export", args=["pdf"]))
    assert response.content[:5] == b"%PDF-" and response["Content-Type"] == "application/pdf"
    assert AuditEvent.objects.filter(action="compliance.soa_exported").count() == 3
    assert client.get(reverse("compliance:soa_export", args=["xlsx"])).status_code == 404


def test_the_pages_let_governance_edit_and_everyone_else_read(governance_admin, product_owner, ml_engineer, feature):
    client = APIClient()
    client.force_login(product_owner)
    url = reverse("compliance:control", args=["A.6.2.6"])
    page = client.get(url).content.decode()
    assert "Governance admins edit the Statement of Applicability." in page and 'name="justification"' not in page
    assert client.post(url, {"applicability": "applicable"}).status_code == 403
    assert client.get(reverse("compliance:control", args=["A.1.1"])).status_code == 404
    assert client.get(reverse("compliance:subcategory", args=["GOVERN-9.9"])).status_code == 404

    client.force_login(governance_admin)
    refused = client.post(url, {"applicability": "applicable", "implementation": "planned", "justification": "Plans."})
    assert refused.status_code == 400 and "Plans." in refused.content.decode()  # what was typed is kept
    saved = client.post(
        url,
        {
            "applicability": "applicable",
            "implementation": "planned",
            "justification": "Plans.",
            "owner": ml_engineer.pk,
        },
    )
    assert saved.status_code == 302
    bad_link = client.post(reverse("compliance:evidence_add", args=["A.6.2.6"]), {"reference": "/nowhere/"})
    assert bad_link.status_code == 400 and "/nowhere/" in bad_link.content.decode()
    client.post(reverse("compliance:evidence_add", args=["A.6.2.6"]), {"reference": feature.get_absolute_url()})
    link = StandardEvidence.objects.get()
    remove = reverse("compliance:evidence_remove", args=["A.6.2.6", link.pk])
    asked = client.post(remove)
    assert asked.status_code == 200 and "Remove evidence from A.6.2.6?" in asked.content.decode()
    assert StandardEvidence.objects.exists()  # asked first, removed only once confirmed
    assert client.post(remove, {"confirm": "1"}).status_code == 302 and not StandardEvidence.objects.exists()

    crosswalk = client.get(reverse("compliance:crosswalk"), {"function": "MANAGE"}).content.decode()
    assert "MANAGE 2.4" in crosswalk and "GOVERN 1.1" not in crosswalk
    soa = client.get(reverse("compliance:soa"), {"q": "supplier"}).content.decode()
    assert "A.10.3" in soa and "A.2.2" not in soa


def test_the_api_writes_through_the_same_rules(governance_admin, auditor, ml_engineer, feature):
    client = APIClient()
    client.force_login(auditor)
    url = reverse("compliance-api:control", args=["A.8.4"])
    body = {"applicability": "applicable", "implementation": "implemented", "justification": "Serious incidents."}
    assert client.put(url, body, format="json").status_code == 403
    client.force_login(governance_admin)
    refused = client.put(url, {**body, "owner": "nobody"}, format="json")
    assert refused.status_code == 400 and "owner" in refused.json()
    assert client.put(url, body, format="json").status_code == 400  # applicable: an owner is required
    saved = client.put(url, {**body, "owner": ml_engineer.username}, format="json").json()
    assert saved["owner"] == ml_engineer.username and "MANAGE 4.3" in saved["nist_ai_rmf"]

    evidence = reverse("compliance-api:control-evidence", args=["A.8.4"])
    created = client.post(evidence, {"reference": feature.get_absolute_url()}, format="json")
    assert created.status_code == 201 and created.json()["url"] == feature.get_absolute_url()
    detail = reverse("compliance-api:control-evidence-detail", args=["A.8.4", created.json()["id"]])
    assert client.delete(detail).status_code == 204 and client.delete(detail).status_code == 404

    sub = reverse("compliance-api:subcategory", args=["MANAGE-4.3"])
    changed = client.put(sub, {"controls": ["A.8.4"], "implementation": "partial", "notes": "Clock."}, format="json")
    assert changed.status_code == 200 and changed.json()["controls"] == ["A.8.4"]
    listed = client.get(reverse("compliance-api:subcategory-list"), {"function": "MANAGE"}).json()
    assert len(listed) == 13
    assert len(client.get(reverse("compliance-api:control-list"), {"clause": "A.6"}).json()) == 9


def test_reading_the_statement_takes_a_fixed_number_of_queries(governance_admin, feature, restricted):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            standards_selectors.control_rows(governance_admin)
            standards_selectors.subcategory_rows(governance_admin)
        return len(queries)

    evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=feature.get_absolute_url())
    few = count()
    for control in ISO_CONTROLS[:12]:
        evidence_link(actor=governance_admin, control_id=control.id, reference=restricted.get_absolute_url())
        control_update(
            actor=governance_admin, control_id=control.id, applicability="excluded", implementation="not_started",
            justification="Not here.",
        )  # fmt: skip
    assert count() <= few + 2  # a second kind of record linked (its links), not one query per control


def test_editing_the_statement_leaves_every_routing_decision_cached(
    governance_admin, feature, django_capture_on_commit_callbacks
):
    """What resolve answers does not depend on the Statement of Applicability: its edits and exports renew
    neither the global epoch nor any feature's stamp (a renewed epoch sends every router to the cold path)."""
    from routing import cache as routing_cache

    epoch, stamp = routing_cache.current_stamps(feature.slug)
    stamp = routing_cache.feature_stamp(feature.slug, stamp)
    with django_capture_on_commit_callbacks(execute=True):
        control_update(
            actor=governance_admin, control_id="A.6.2.4", applicability="excluded", implementation="not_started",
            justification="Not here.",
        )  # fmt: skip
        evidence_link(actor=governance_admin, control_id="A.6.2.4", reference=feature.get_absolute_url())
        subcategory_update(
            actor=governance_admin, subcategory_id="MAP 1.1", controls=["A.9.4"], implementation="planned", notes=""
        )
    assert routing_cache.current_stamps(feature.slug) == (epoch, stamp)


def test_odd_input_is_refused_never_an_error(governance_admin):
    client = APIClient()
    client.force_login(governance_admin)
    for reference in ("http://[x/features/a/", "/features/\x00/", "x" * 400):
        response = client.post(reverse("compliance:evidence_add", args=["A.6.2.4"]), {"reference": reference})
        assert response.status_code == 400, reference
    odd = client.put(
        reverse("compliance-api:subcategory", args=["GOVERN-1.1"]),
        {"controls": ["A.²", "A.2.2"], "implementation": "planned"},
        format="json",
    )
    assert odd.status_code == 400 and "A.²" in str(odd.json())
    assert client.get("/compliance/iso-42001/A.%C2%B2/").status_code == 404
    assert client.get("/compliance/nist-ai-rmf/GOVERN-%C2%B2/").status_code == 404
