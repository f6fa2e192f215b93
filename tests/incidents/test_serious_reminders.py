"""Reminders as a serious incident's report deadline nears (EU AI Act Art. 73): the owners are told when
half the time is gone and on the last day, governance on the last day and once overdue; each reminder
once, on the timeline and in the audit trail; nothing once the complete report is recorded. Time travels
through the service's ``now``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import incident_mark_serious, incident_record_submission, serious_report_reminders_send
from incidents.tasks import serious_report_reminders
from registry.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db


def notices(*, to=None, about="report"):
    found = Notification.objects.filter(key__startswith=f"incident-{about}")
    return found.filter(user=to) if to is not None else found


def reminders(incident):
    return list(incident.events.filter(kind="reminder").order_by("id").values_list("payload__stage", flat=True))


@pytest.fixture
def marked(open_incident, support_agent):
    """A serious incident (fundamental rights): aware one hour ago, so the report is due in 14 days 23 hours."""
    incident = open_incident()
    return incident_mark_serious(
        actor=support_agent,
        incident=incident,
        criteria=["rights"],
        aware_at=timezone.now() - timedelta(hours=1),
    )


def test_half_the_time_gone_reminds_the_owners_once(marked, on_call, product_owner, governance_admin):
    half = marked.aware_at + timedelta(days=7, hours=12)

    assert serious_report_reminders_send(now=half - timedelta(hours=1)) == {"reminded": 0, "escalated": 0}
    sent = serious_report_reminders_send(now=half + timedelta(minutes=5))
    again = serious_report_reminders_send(now=half + timedelta(hours=2))

    assert sent == {"reminded": 2, "escalated": 0} and again == {"reminded": 0, "escalated": 0}
    assert {notice.user for notice in notices(about="report-reminder")} == {on_call, product_owner}
    told = notices(to=on_call, about="report-reminder").get()
    assert "half the time to report is gone" in told.subject and marked.reference in told.subject
    assert "No report has been submitted yet." in told.body
    assert not notices(to=governance_admin, about="report-").exists()
    assert reminders(marked) == ["half"]
    audit = AuditEvent.objects.get(action="incident.report_reminded")
    assert audit.payload["stage"] == "half" and audit.payload["told"] == sorted(
        [on_call.username, product_owner.username]
    )


def test_the_last_day_escalates_to_governance_and_overdue_tells_everyone_again(
    marked, on_call, product_owner, governance_admin
):
    due = marked.report_due_at
    serious_report_reminders_send(now=due - timedelta(days=3))  # half

    serious_report_reminders_send(now=due - timedelta(hours=23))
    serious_report_reminders_send(now=due - timedelta(hours=2))  # the same day: nothing new

    escalation = notices(to=governance_admin, about="report-escalated").get()
    assert escalation.subject.startswith("Escalated: serious incident") and "less than a day left" in escalation.subject
    assert notices(to=on_call, about="report-reminder").count() == 2
    assert reminders(marked) == ["half", "last_day"]

    serious_report_reminders_send(now=due + timedelta(hours=1))
    serious_report_reminders_send(now=due + timedelta(days=2))

    assert reminders(marked) == ["half", "last_day", "overdue"]
    assert "overdue" in notices(to=governance_admin, about="report-escalated").latest("pk").subject
    assert notices(to=product_owner, about="report-reminder").count() == 3
    assert AuditEvent.objects.filter(action="incident.report_escalated").count() == 2


def test_a_two_day_deadline_goes_straight_to_the_last_day(open_incident, support_agent, governance_admin):
    incident = incident_mark_serious(
        actor=support_agent,
        incident=open_incident(),
        criteria=["infrastructure"],
        aware_at=timezone.now() - timedelta(minutes=5),
    )

    serious_report_reminders_send(now=incident.aware_at + timedelta(days=1, hours=1))

    assert reminders(incident) == ["last_day"], "half the time and the last day fall together: one reminder"
    assert notices(to=governance_admin, about="report-escalated").exists()


def test_the_complete_report_stops_the_reminders(marked, support_agent, governance_admin):
    due = marked.report_due_at
    serious_report_reminders_send(now=due - timedelta(days=3))
    incident_record_submission(
        actor=support_agent,
        incident=marked,
        kind="initial",
        authority="Market surveillance authority",
        submitted_at=timezone.now(),
    )
    serious_report_reminders_send(now=due - timedelta(hours=20))
    assert "The initial report was submitted on" in notices(about="report-reminder").latest("pk").body

    incident_record_submission(
        actor=support_agent,
        incident=marked,
        kind="complete",
        authority="Market surveillance authority",
        submitted_at=timezone.now(),
    )
    before = notices().count()

    assert serious_report_reminders_send(now=due + timedelta(days=1)) == {"reminded": 0, "escalated": 0}
    assert notices().count() == before
    assert reminders(marked) == ["half", "last_day"]


def test_a_changed_decision_starts_the_reminders_of_its_own_deadline(marked, support_agent):
    serious_report_reminders_send(now=marked.report_due_at - timedelta(hours=10))
    assert reminders(marked) == ["last_day"]

    changed = incident_mark_serious(
        actor=support_agent,
        incident=marked,
        criteria=["health"],
        death=True,
        aware_at=marked.aware_at,
    )
    serious_report_reminders_send(now=changed.report_due_at + timedelta(minutes=1))

    assert reminders(marked) == ["last_day", "overdue"]


def test_the_periodic_task_sends_them_as_the_system(marked, monkeypatch):
    """The beat schedule runs the task hourly; it reads the time itself."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=8))  # eight days later

    assert serious_report_reminders.apply().get() == {"reminded": 2, "escalated": 0}
    audit = AuditEvent.objects.get(action="incident.report_reminded")
    assert audit.actor is None and audit.source == "task"
