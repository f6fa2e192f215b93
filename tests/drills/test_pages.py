"""The drills pages: who sees them, the form with its preview, the report, the list."""

import pytest

from drills.models import DrillRun
from drills.services import drill_run
from tests.drills.conftest import add_features

pytestmark = pytest.mark.django_db

LIST, NEW = "/drills/", "/drills/new/"


@pytest.fixture
def saved(world, governance_admin):
    return drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"], note="Quarterly drill.")


def test_governance_previews_then_runs_a_drill_and_reads_the_report(client, world, governance_admin):
    client.force_login(governance_admin)
    assert ">Drills</a>" in client.get("/").content.decode()
    preview = client.post(NEW, {"kind": "vendor_unavailable", "vendor": "acme", "preview": "1"})
    html = preview.content.decode()
    assert preview.status_code == 200 and "Preview: Vendor Acme AI unavailable" in html
    assert "Loses its route" in html and "Moves to a fallback" in html and "bolt/breeze" in html
    assert not DrillRun.objects.exists()
    done = client.post(NEW, {"kind": "vendor_unavailable", "vendor": "acme", "note": "Drill.", "run": "1"}, follow=True)
    run = DrillRun.objects.get()
    assert done.redirect_chain[-1][0] == run.get_absolute_url()
    html = done.content.decode()
    assert "Nothing live changed" in html
    assert "Claims triage" in html and "Fraud scoring" in html and "Care bot" not in html
    assert "Still served in eu" in html and "no route (409)" in html


def test_the_preview_comes_back_as_a_partial_for_htmx(client, world, governance_admin):
    client.force_login(governance_admin)
    response = client.post(NEW, {"kind": "region_lost", "region": "eu", "preview": "1"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="preview">') and "Region eu" in html and "<form" not in html


def test_a_missing_subject_is_said_on_its_field_and_what_was_typed_is_kept(client, world, governance_admin):
    client.force_login(governance_admin)
    response = client.post(NEW, {"kind": "vendor_unavailable", "note": "Keep this note.", "run": "1"})
    html = response.content.decode()
    assert response.status_code == 200 and "Choose the vendor that becomes unavailable." in html
    assert "Keep this note." in html and not DrillRun.objects.exists()


def test_the_evidence_drill_says_routes_stay(client, world, governance_admin):
    client.force_login(governance_admin)
    html = client.post(NEW, {"kind": "evidence_aged", "days": "100", "run": "1"}, follow=True).content.decode()
    assert "Routes stay." in html and "resolve keeps serving and only warns" in html
    assert "Keeps its route, with warnings" in html


@pytest.mark.parametrize("persona", ["security_reviewer", "auditor"])
def test_security_reviewers_and_auditors_read_reports_but_do_not_run_drills(client, saved, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 200
    assert "Vendor Acme AI unavailable" in client.get(LIST).content.decode()
    assert client.get(saved.get_absolute_url()).status_code == 200
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"kind": "region_lost", "region": "eu", "run": "1"}).status_code == 403
    assert DrillRun.objects.count() == 1


@pytest.mark.parametrize("persona", ["ml_engineer", "product_owner", "support_agent", "outsider"])
def test_others_see_no_drills(client, saved, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert ">Drills</a>" not in client.get("/").content.decode()
    for url in (LIST, saved.get_absolute_url(), NEW):
        assert client.get(url).status_code == 403


def test_restricted_features_are_left_out_of_reports_for_those_who_may_not_see_them(
    client, saved, security_reviewer, auditor
):
    client.force_login(security_reviewer)
    html = client.get(saved.get_absolute_url()).content.decode()
    assert "Fraud scoring" not in html and "Claims triage" in html
    assert "Features you may not see are left out" in html
    listing = client.get(LIST).content.decode()
    assert '<span class="badge badge-bad">1</span>' in listing  # claims-triage us only; fraud-scoring hidden
    client.force_login(auditor)
    assert "Fraud scoring" in client.get(saved.get_absolute_url()).content.decode()
    assert '<span class="badge badge-bad">2</span>' in client.get(LIST).content.decode()


def test_the_list_filters_and_shows_an_empty_state(client, world, governance_admin):
    client.force_login(governance_admin)
    assert "No drill has been run yet" in client.get(LIST).content.decode()
    drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    drill_run(actor=governance_admin, kind="evidence_aged", days=30)
    html = client.get(LIST, {"kind": "evidence_aged"}).content.decode()
    assert "Evidence 30 days older" in html and "Vendor Acme AI unavailable" not in html
    html = client.get(LIST, {"result": "loses"}).content.decode()
    assert "Vendor Acme AI unavailable" in html and "Evidence 30 days older" not in html
    assert "No drill matches" in client.get(LIST, {"q": "nothing-like-this"}).content.decode()


@pytest.mark.parametrize("persona", ["governance_admin", "security_reviewer"])
def test_the_list_and_the_report_cost_the_same_queries_for_few_or_many_runs_and_routes(
    client, world, governance_admin, persona, request, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(request.getfixturevalue(persona))
    first = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    with CaptureQueriesContext(connection) as few_list:
        client.get(LIST)
    with CaptureQueriesContext(connection) as few_report:
        client.get(first.get_absolute_url())
    add_features(world, 5, by=governance_admin)
    for _ in range(6):
        last = drill_run(actor=governance_admin, kind="vendor_unavailable", vendor=world["acme"])
    with django_assert_max_num_queries(len(few_list.captured_queries)):
        assert client.get(LIST).content.decode().count("Vendor Acme AI unavailable") == 7
    with django_assert_max_num_queries(len(few_report.captured_queries)):
        assert client.get(last.get_absolute_url()).content.decode().count("Extra ") >= 10


def test_a_preview_without_its_vendor_marks_the_vendor_field(client, world, governance_admin):
    client.force_login(governance_admin)
    response = client.post(
        NEW, {"kind": "vendor_unavailable", "note": "Keep this note.", "preview": "1"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    # The preview says what is wrong, linking to the field, and the field itself is marked in place (htmx
    # swaps it by id), keeping what was typed.
    assert 'href="#field-vendor"' in html
    assert '<div class="field field-error" id="field-vendor" hx-swap-oob="true">' in html
    assert 'id="field-note" hx-swap-oob="true"' in html and "Keep this note." in html

    fixed = client.post(NEW, {"kind": "vendor_unavailable", "vendor": "acme", "preview": "1"}, HTTP_HX_REQUEST="true")
    assert '<div class="field" id="field-vendor" hx-swap-oob="true">' in fixed.content.decode()  # unmarked again
