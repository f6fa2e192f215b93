"""The incident page answers 200 whatever its record holds: a version live at impact start without the
deployment event that made it live (as imported or generated data has: ``bench/scale.py`` makes incidents
so), timeline entries by a person, by the system or an alert (no person), and with an empty payload. The
``person`` tag names nobody with "—" and a name recorded as text as it is, never raising."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse

from incidents.choices import EventKind
from incidents.models import Incident, IncidentEvent
from tests.incidents.conftest import hours_ago


@pytest.fixture
def generated_incident(history, feature, eu, on_call, product_owner):
    """An incident written as ``bench/scale.py`` writes them: the live version set, no live event; then a
    timeline with an entry of each kind of actor (a person, an alert, the system, none) and an empty payload."""
    _v1, v2 = history
    detected = hours_ago(2)
    incident = Incident.objects.create(
        title="Generated incident",
        feature=feature,
        environment="production",
        region=eu,
        severity="sev3",
        status="investigating",
        impact_start=detected - timedelta(minutes=30),
        detected_at=detected,
        live_version=v2,
        live_event=None,
        owner=on_call,
        reporter=product_owner,
        description="Benchmark incident.",
    )
    entries = [
        (EventKind.OPENED, product_owner, "SEV3 opened by pat-product.", {}),
        (EventKind.ALERT, None, "Alert ClaimsLatencyHigh firing.", {"status": "firing", "labels": {"x": "y"}}),
        (EventKind.COMMENT, None, "Evidence went stale: opened by the freshness sweep.", {}),
        (EventKind.STATUS, on_call, "status entry", {}),  # no "status" pair in the payload
        (EventKind.COMMENT, on_call, "Looking into it.", {"corrective": True}),
    ]
    for minutes, (kind, actor, body, payload) in enumerate(entries):
        IncidentEvent.objects.create(
            incident=incident,
            kind=kind,
            actor=actor,
            body=body,
            payload=payload,
            at=detected + timedelta(minutes=minutes),
        )
    return incident


@pytest.mark.parametrize("persona", ["governance_admin", "on_call", "auditor", "product_owner"])
def test_the_page_of_an_incident_without_its_live_event_and_with_every_kind_of_entry_renders(
    client, generated_incident, request, persona
):
    client.force_login(request.getfixturevalue(persona))

    response = client.get(reverse("incidents:incident_detail", args=[generated_incident.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not recorded: no deployment event is linked to this incident." in page
    assert "Alert ClaimsLatencyHigh firing." in page and "Evidence went stale" in page
    assert 'title="oona-oncall">Oona Oncall</span>' in page  # the owner, and the people on the timeline


def test_the_lists_and_the_feature_page_show_such_an_incident(client, generated_incident, governance_admin):
    client.force_login(governance_admin)

    for url in (reverse("incidents:incident_list"), generated_incident.feature.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 200, url
        assert generated_incident.reference in response.content.decode(), url


def test_the_page_of_an_incident_opened_by_gatehouse_itself_renders(client, feature, eu, history, governance_admin):
    from incidents.services import incident_open_governance

    incident = incident_open_governance(
        feature=feature,
        environment="production",
        region=eu,
        impact_start=hours_ago(1),
        title="Evidence stale past its grace period",
        description="The bias evaluation is older than allowed.",
    )
    client.force_login(governance_admin)

    response = client.get(reverse("incidents:incident_detail", args=[incident.pk]))

    assert response.status_code == 200
    assert "Evidence stale past its grace period" in response.content.decode()


def render_person(value) -> str:
    return Template("{% load gatehouse %}{% person who %}").render(Context({"who": value}))


def test_the_person_tag_names_anyone_and_never_raises(on_call, product_owner):
    product_owner.first_name = product_owner.last_name = ""
    assert render_person(on_call) == '<span class="person" title="oona-oncall">Oona Oncall</span>'
    assert render_person(product_owner) == f'<span class="person">{product_owner.username}</span>'
    assert render_person(None) == "—"
    assert render_person("") == "—"  # what a lookup through a missing object gives
    assert render_person("alertmanager") == '<span class="person">alertmanager</span>'
    assert render_person("<b>system</b>") == '<span class="person">&lt;b&gt;system&lt;/b&gt;</span>'
    assert Template("{% load gatehouse %}{% person event.actor %}").render(Context({"event": None})) == "—"
