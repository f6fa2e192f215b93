"""Serious incidents (EU AI Act Art. 3(49) and 73): marking one starts the report's clock from awareness;
the deadline is 15 days, 10 after a death, 2 when widespread or critical infrastructure is disrupted; it
shows on the incident and on the dashboard, overdue once past; only those who work the incident decide."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from incidents.services import incident_mark_serious
from registry.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("criteria", "death", "widespread", "days"),
    [
        (["rights"], False, False, 15),
        (["property"], False, False, 15),
        (["health"], True, False, 10),
        (["health"], False, False, 15),
        (["infrastructure"], False, False, 2),
        (["rights"], False, True, 2),
        (["health", "infrastructure"], True, False, 2),  # the shortest that applies
    ],
)
def test_the_deadline_runs_from_awareness(open_incident, support_agent, criteria, death, widespread, days):
    incident = open_incident()
    aware = timezone.now() - timedelta(hours=1)

    marked = incident_mark_serious(
        actor=support_agent, incident=incident, criteria=criteria, death=death, widespread=widespread, aware_at=aware
    )

    assert marked.report_days == days
    assert marked.report_due_at == aware + timedelta(days=days)
    assert not marked.report_overdue


def test_time_passing_makes_the_report_overdue(open_incident, support_agent, monkeypatch):
    incident = open_incident()
    aware = timezone.now() - timedelta(days=1)
    marked = incident_mark_serious(actor=support_agent, incident=incident, criteria=["rights"], aware_at=aware)
    real_now = timezone.now

    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=13, hours=23))
    assert not marked.report_overdue  # 14 days and 23 hours after awareness
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=14, hours=1))
    assert marked.report_overdue  # 15 days and 1 hour after


def test_marking_is_audited_on_the_timeline_and_tells_governance(
    open_incident, support_agent, governance_admin, product_owner
):
    incident = open_incident()

    incident_mark_serious(
        actor=support_agent,
        incident=incident,
        criteria=["health"],
        death=True,
        aware_at=timezone.now() - timedelta(hours=2),
        reason="A claimant's urgent medical claim was routed to a month-long queue.",
    )

    event = AuditEvent.objects.get(action="incident.marked_serious")
    assert event.payload["new"]["criteria"] == ["health"] and event.payload["new"]["death"] is True
    assert incident.events.filter(kind="serious").exists()
    assert Notification.objects.filter(
        user=governance_admin, subject__startswith=f"Serious incident {incident.reference}"
    ).exists()
    assert Notification.objects.filter(user=product_owner, subject__contains="report due").exists()


def test_bad_decisions_are_refused(open_incident, support_agent, outsider, auditor):
    incident = open_incident()
    now = timezone.now()
    with pytest.raises(ValidationError):
        incident_mark_serious(actor=support_agent, incident=incident, criteria=[], aware_at=now)
    with pytest.raises(ValidationError):
        incident_mark_serious(actor=support_agent, incident=incident, criteria=["rights"], death=True, aware_at=now)
    with pytest.raises(ValidationError):
        incident_mark_serious(
            actor=support_agent, incident=incident, criteria=["rights"], aware_at=now + timedelta(days=1)
        )
    for stranger in (outsider, auditor):
        with pytest.raises(PermissionDenied):
            incident_mark_serious(actor=stranger, incident=incident, criteria=["rights"], aware_at=now)
    incident.refresh_from_db()
    assert not incident.is_serious


def test_the_clock_shows_on_the_incident_and_the_dashboard(client, open_incident, support_agent, governance_admin):
    incident = open_incident()
    client.force_login(support_agent)

    response = client.post(
        reverse("incidents:serious", args=[incident.pk]),
        {
            "criteria": ["rights"],
            "widespread": "on",
            "aware_at": timezone.localtime(timezone.now() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 302
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Serious incident: report due" in page and "within 2 days" in page
    client.force_login(governance_admin)
    home = client.get("/").content.decode()
    assert "Serious incidents: reports due" in home and incident.reference in home
    empty = client.post(reverse("incidents:serious", args=[incident.pk]), {"aware_at": "soon"})
    assert empty.status_code == 422
