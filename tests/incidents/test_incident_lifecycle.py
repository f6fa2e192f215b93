"""An incident moves open → investigating → mitigated → resolved → closed along allowed steps only, each
step stamped and audited; a SEV1 or SEV2 closes only with a root cause and follow-ups; comments, owner
changes and links land on the timeline in order; and only the people responsible may work it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.exceptions import Conflict
from incidents.choices import EventKind, IncidentStatus
from incidents.services import (
    incident_add_link,
    incident_assign,
    incident_comment,
    incident_transition,
)
from registry.models import AuditEvent, Notification
from tests.factories import UserFactory
from tests.incidents.conftest import fresh


def audit_actions(incident):
    return list(
        AuditEvent.objects.filter(object_type="incident", object_id=str(incident.pk))
        .order_by("sequence")
        .values_list("action", flat=True)
    )


@pytest.fixture
def incident(open_incident):
    return open_incident()


@pytest.mark.parametrize(
    "path, refused",
    [
        pytest.param([], "closed", id="open-to-closed"),
        pytest.param([], "open", id="open-to-open"),
        pytest.param(["investigating"], "closed", id="investigating-to-closed"),
        pytest.param(["mitigated"], "closed", id="mitigated-to-closed"),
        pytest.param(["resolved"], "mitigated", id="resolved-to-mitigated"),
    ],
)
def test_moves_outside_the_allowed_transitions_are_refused_with_a_conflict(incident, on_call, path, refused):
    for status in path:
        incident_transition(actor=on_call, incident=incident, status=status)

    with pytest.raises(Conflict) as conflict:
        incident_transition(actor=on_call, incident=incident, status=refused)

    assert incident.reference in conflict.value.message
    assert fresh(incident).status == (path[-1] if path else "open")


def test_a_closed_incident_moves_nowhere(incident, on_call):
    incident_transition(actor=on_call, incident=incident, status="resolved")
    incident_transition(
        actor=on_call, incident=incident, status="closed", root_cause="Bad prompt.", follow_ups="Add a test."
    )

    for status in IncidentStatus.values:
        with pytest.raises(Conflict):
            incident_transition(actor=on_call, incident=incident, status=status)


def test_each_step_stamps_its_moment(incident, on_call):
    mitigated = incident_transition(actor=on_call, incident=incident, status="mitigated")
    assert mitigated.mitigated_at is not None and mitigated.resolved_at is None

    resolved = incident_transition(actor=on_call, incident=incident, status="resolved")
    assert resolved.mitigated_at == mitigated.mitigated_at, "resolving keeps the moment it was mitigated"
    assert resolved.resolved_at >= resolved.mitigated_at and resolved.closed_at is None

    closed = incident_transition(
        actor=on_call,
        incident=incident,
        status="closed",
        root_cause="A prompt change.",
        follow_ups="Add a regression suite.",
    )
    assert closed.closed_at >= closed.resolved_at
    stored = fresh(incident)
    assert (stored.status, stored.mitigated_at, stored.resolved_at, stored.closed_at) == (
        "closed",
        mitigated.mitigated_at,
        resolved.resolved_at,
        closed.closed_at,
    )


def test_reopening_clears_the_mitigated_and_resolved_moments_but_the_timeline_keeps_them(incident, on_call):
    incident_transition(actor=on_call, incident=incident, status="resolved")

    reopened = incident_transition(actor=on_call, incident=incident, status="investigating", note="It is back.")
    assert (reopened.mitigated_at, reopened.resolved_at) == (None, None)

    mitigated = incident_transition(actor=on_call, incident=incident, status="mitigated")
    assert mitigated.mitigated_at is not None and mitigated.resolved_at is None
    steps = list(
        fresh(incident).events.filter(kind=EventKind.STATUS).order_by("at", "id").values_list("payload", flat=True)
    )
    assert [step["status"] for step in steps] == [
        ["open", "resolved"],
        ["resolved", "investigating"],
        ["investigating", "mitigated"],
    ]


def test_resolving_straight_from_open_mitigates_too(incident, on_call):
    resolved = incident_transition(actor=on_call, incident=incident, status="resolved")

    assert resolved.mitigated_at == resolved.resolved_at


def test_each_step_is_on_the_timeline_and_audited_with_old_and_new_status(incident, on_call):
    incident_transition(actor=on_call, incident=incident, status="investigating", note="  Looking at the router.  ")

    entry = fresh(incident).events.get(kind=EventKind.STATUS)
    assert (entry.actor, entry.body, entry.payload) == (
        on_call,
        "Looking at the router.",
        {"status": ["open", "investigating"]},
    )
    audit = AuditEvent.objects.get(action="incident.status_changed")
    assert audit.actor == on_call
    assert audit.payload["status"] == ["open", "investigating"] and audit.payload["note"] == "Looking at the router."


@pytest.mark.parametrize("severity", ["sev1", "sev2"])
def test_closing_a_sev1_or_sev2_needs_a_root_cause_and_follow_ups(open_incident, on_call, severity):
    incident = open_incident(severity=severity)
    incident_transition(actor=on_call, incident=incident, status="resolved")

    for missing in ({"root_cause": "The prompt change."}, {"follow_ups": "Add a test."}, {}):
        with pytest.raises(ValidationError) as refused:
            incident_transition(actor=on_call, incident=incident, status="closed", **missing)
        assert "root_cause" in refused.value.message_dict
        assert fresh(incident).status == "resolved"
        assert fresh(incident).root_cause == "", "a refused close keeps nothing it was given"

    closed = incident_transition(
        actor=on_call,
        incident=incident,
        status="closed",
        root_cause=" The prompt change. ",
        follow_ups="Add a regression test.\nAlert on queue mix.",
    )
    assert (closed.status, closed.root_cause) == ("closed", "The prompt change.")


def test_root_cause_given_while_resolving_counts_when_closing(open_incident, on_call):
    incident = open_incident(severity="sev1")
    incident_transition(
        actor=on_call, incident=incident, status="resolved", root_cause="Prompt change.", follow_ups="Regression test."
    )

    assert incident_transition(actor=on_call, incident=incident, status="closed").status == "closed"


@pytest.mark.parametrize("severity", ["sev3", "sev4"])
def test_closing_a_sev3_or_sev4_needs_no_root_cause(open_incident, on_call, severity):
    incident = open_incident(severity=severity)
    incident_transition(actor=on_call, incident=incident, status="resolved")

    assert incident_transition(actor=on_call, incident=incident, status="closed").status == "closed"


def test_a_postmortem_link_must_be_http(open_incident, on_call):
    incident = open_incident()

    with pytest.raises(ValidationError):
        incident_transition(
            actor=on_call, incident=incident, status="investigating", postmortem_url="javascript:alert(1)"
        )

    assert fresh(incident).status == "open"
    incident_transition(
        actor=on_call, incident=incident, status="investigating", postmortem_url="https://wiki.example.test/pm/1"
    )
    assert fresh(incident).postmortem_url == "https://wiki.example.test/pm/1"


def test_comments_owner_changes_and_links_appear_on_the_timeline_in_order_and_are_audited(
    incident, on_call, ml_engineer, support_agent
):
    incident_comment(actor=ml_engineer, incident=incident, body="  Router config changed at 14:00.  ")
    incident_assign(actor=on_call, incident=incident, owner=ml_engineer)
    incident_add_link(
        actor=ml_engineer, incident=incident, url="https://grafana.example.test/d/claims", title="Dashboard"
    )
    incident_transition(actor=ml_engineer, incident=incident, status="investigating")
    incident_comment(actor=support_agent, incident=incident, body="Two more customers called.")

    timeline = list(fresh(incident).events.order_by("at", "id").values_list("kind", "actor__username", "body"))
    assert timeline == [
        ("opened", "sue-support", "SEV2 opened by sue-support."),
        ("comment", "mel-ml", "Router config changed at 14:00."),
        ("owner", "oona-oncall", "Owner: oona-oncall → mel-ml"),
        ("link", "mel-ml", "Dashboard"),
        ("status", "mel-ml", ""),
        ("comment", "sue-support", "Two more customers called."),
    ]
    assert audit_actions(incident) == [
        "incident.opened",
        "incident.commented",
        "incident.owner_changed",
        "incident.link_added",
        "incident.status_changed",
        "incident.commented",
    ]
    assert fresh(incident).owner == ml_engineer
    assert AuditEvent.objects.get(action="incident.owner_changed").payload == {"owner": ["oona-oncall", "mel-ml"]}
    assert AuditEvent.objects.get(action="incident.link_added").payload == {
        "url": "https://grafana.example.test/d/claims",
        "title": "Dashboard",
    }


def test_the_new_owner_is_told_and_reassigning_to_the_same_owner_changes_nothing(incident, on_call, ml_engineer):
    incident_assign(actor=on_call, incident=incident, owner=ml_engineer)
    incident_assign(actor=on_call, incident=incident, owner=ml_engineer)

    assert (
        Notification.objects.filter(user=ml_engineer, key=f"incident-owner:{incident.pk}:{ml_engineer.pk}").count() == 1
    )
    assert fresh(incident).events.filter(kind=EventKind.OWNER).count() == 1


def test_an_inactive_person_cannot_own_an_incident(incident, on_call):
    leaver = UserFactory(username="lee-leaver", is_active=False)

    with pytest.raises(ValidationError):
        incident_assign(actor=on_call, incident=incident, owner=leaver)

    assert fresh(incident).owner == on_call


def test_a_restricted_incident_cannot_be_handed_to_someone_who_cannot_see_its_feature(
    open_incident, restricted_feature, ml_engineer, outsider
):
    incident = open_incident(actor=ml_engineer, feature=restricted_feature, title="Fraud scores all zero")

    with pytest.raises(ValidationError):
        incident_assign(actor=ml_engineer, incident=incident, owner=outsider)

    assert not Notification.objects.filter(user=outsider).exists()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.example.test/log", "not a url", ""])
def test_a_link_must_be_http_or_https(incident, on_call, url):
    with pytest.raises(ValidationError) as refused:
        incident_add_link(actor=on_call, incident=incident, url=url)

    assert "url" in refused.value.message_dict
    assert not fresh(incident).events.filter(kind=EventKind.LINK).exists()


def test_an_empty_comment_is_refused(incident, on_call):
    with pytest.raises(ValidationError):
        incident_comment(actor=on_call, incident=incident, body="   ")


WORKERS = ["on_call", "support_agent", "ml_engineer", "product_owner", "governance_admin"]


@pytest.fixture
def reporter(db):
    """Someone without a role or team who reported the incident."""
    return UserFactory(username="rita-reporter")


@pytest.fixture
def reported(open_incident, reporter):
    return open_incident(actor=reporter, severity="sev3")


@pytest.mark.parametrize("persona", WORKERS)
def test_the_owner_support_team_and_governance_work_an_incident(request, reported, persona):
    actor = request.getfixturevalue(persona)

    incident_transition(actor=actor, incident=reported, status="investigating")
    incident_add_link(actor=actor, incident=reported, url="https://status.example.test/1")
    incident_assign(actor=actor, incident=reported, owner=actor)

    incident = fresh(reported)
    assert (incident.status, incident.owner) == ("investigating", actor)


@pytest.mark.parametrize("persona", ["outsider", "auditor", "other_product_owner", "reporter"])
def test_outsiders_auditors_and_a_plain_reporter_cannot_work_an_incident(request, reported, persona):
    actor = request.getfixturevalue(persona)

    with pytest.raises(PermissionDenied):
        incident_transition(actor=actor, incident=reported, status="investigating")
    with pytest.raises(PermissionDenied):
        incident_add_link(actor=actor, incident=reported, url="https://status.example.test/1")
    with pytest.raises(PermissionDenied):
        incident_assign(actor=actor, incident=reported, owner=actor)

    assert fresh(reported).status == "open"
    assert audit_actions(reported) == ["incident.opened"]


def test_auditors_cannot_comment_because_they_only_read(reported, auditor):
    with pytest.raises(PermissionDenied):
        incident_comment(actor=auditor, incident=reported, body="Noted for the quarterly review.")

    assert audit_actions(reported) == ["incident.opened"]


@pytest.mark.parametrize("persona", ["outsider", "other_product_owner", "security_reviewer"])
def test_anyone_else_who_can_see_the_incident_may_comment(request, reported, persona):
    actor = request.getfixturevalue(persona)

    incident_comment(actor=actor, incident=reported, body="Seeing this too.")

    assert fresh(reported).events.filter(kind=EventKind.COMMENT, actor=actor).count() == 1


def test_an_outsider_cannot_comment_on_a_restricted_features_incident(
    open_incident, restricted_feature, outsider, ml_engineer
):
    incident = open_incident(actor=ml_engineer, feature=restricted_feature)

    with pytest.raises(PermissionDenied):
        incident_comment(actor=outsider, incident=incident, body="Hello?")

    assert fresh(incident).events.count() == 1
