"""Rolling back from an incident goes through the registry's rollback: one DeploymentEvent carrying the
incident, an entry on the incident's timeline linked to it, the feature's deployment history showing it.
The same rules hold from the service, the incident page and the API."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.exceptions import Conflict
from incidents.choices import EventKind
from incidents.services import incident_rollback, incident_transition
from registry.models import AuditEvent, Deployment, DeploymentEvent
from tests.incidents.conftest import fresh


def live_number(feature, region):
    return Deployment.objects.get(feature=feature, environment="production", region=region).version.number


def rollbacks():
    return DeploymentEvent.objects.filter(kind="rolled_back")


@pytest.fixture
def incident(history, open_incident):
    """A SEV1 in production/eu while v2 is live (v1 served before it)."""
    return open_incident(severity="sev1")


def test_a_rollback_from_the_incident_uses_the_registry_rollback_and_carries_the_incident(
    incident, history, ml_engineer, feature, eu, us
):
    v1, v2 = history

    event = incident_rollback(actor=ml_engineer, incident=incident, reason="  Misrouting since v2.  ")

    assert (event.kind, event.from_version, event.to_version) == ("rolled_back", v2, v1)
    assert (event.incident_id, event.region, event.environment, event.actor) == (
        incident.pk,
        eu,
        "production",
        ml_engineer,
    )
    assert event.reason == "Misrouting since v2."
    assert (live_number(feature, eu), live_number(feature, us)) == (1, 2), "only the incident's region"
    assert AuditEvent.objects.get(action="deployment.rolled_back").payload["incident"] == incident.pk


def test_the_rollback_is_on_the_incident_timeline_linked_to_the_deployment_event(incident, ml_engineer):
    event = incident_rollback(actor=ml_engineer, incident=incident, reason="Misrouting since v2.")

    entry = fresh(incident).events.get(kind=EventKind.ROLLBACK)
    assert (entry.deployment_event, entry.actor, entry.body) == (event, ml_engineer, "Misrouting since v2.")
    assert entry.payload == {"from_version": 2, "to_version": 1}
    assert list(fresh(incident).events.order_by("at", "id").values_list("kind", flat=True)) == ["opened", "rollback"]
    audit = AuditEvent.objects.get(action="incident.rolled_back")
    assert audit.payload["deployment_event"] == event.pk and audit.payload["reason"] == "Misrouting since v2."


def test_the_rollback_is_in_the_features_deployment_history(client, incident, ml_engineer, feature):
    event = incident_rollback(actor=ml_engineer, incident=incident, reason="Misrouting since v2.")
    client.force_login(ml_engineer)

    response = client.get(feature.get_absolute_url())

    assert response.context["deployment_events"][0] == event
    assert "Misrouting since v2." in response.content.decode()


def test_an_explicit_target_is_honoured(releases, open_incident, ml_engineer, feature, eu):
    v1, _v2, _v3 = releases(3)
    incident = open_incident(severity="sev1")

    event = incident_rollback(actor=ml_engineer, incident=incident, reason="Back to the known good.", to_version=v1)

    assert event.to_version == v1 and live_number(feature, eu) == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_rollback_needs_a_reason(incident, ml_engineer, feature, eu, reason):
    with pytest.raises(ValidationError):
        incident_rollback(actor=ml_engineer, incident=incident, reason=reason)

    assert not rollbacks().exists() and live_number(feature, eu) == 2
    assert not fresh(incident).events.filter(kind=EventKind.ROLLBACK).exists()


def test_a_closed_incident_cannot_roll_back(incident, on_call, ml_engineer, feature, eu):
    incident_transition(actor=on_call, incident=incident, status="resolved")
    incident_transition(actor=on_call, incident=incident, status="closed", root_cause="Prompt.", follow_ups="Test.")

    with pytest.raises(Conflict):
        incident_rollback(actor=ml_engineer, incident=incident, reason="Too late.")

    assert not rollbacks().exists() and live_number(feature, eu) == 2


@pytest.mark.parametrize("persona", ["on_call", "outsider", "auditor", "other_product_owner"])
def test_only_the_features_team_governance_and_support_roll_back(request, incident, feature, eu, persona):
    """Owning an incident is not enough: moving the live pointer is the team's, governance's or support's."""
    with pytest.raises(PermissionDenied):
        incident_rollback(actor=request.getfixturevalue(persona), incident=incident, reason="Roll it back.")

    assert not rollbacks().exists() and live_number(feature, eu) == 2
    assert not fresh(incident).events.filter(kind=EventKind.ROLLBACK).exists()


def test_governance_may_roll_back(incident, governance_admin, feature, eu):
    incident_rollback(actor=governance_admin, incident=incident, reason="Governance call.")

    assert live_number(feature, eu) == 1


def test_nothing_to_roll_back_to_is_a_conflict(releases, open_incident, ml_engineer):
    releases(1)
    incident = open_incident(severity="sev1")

    with pytest.raises(Conflict):
        incident_rollback(actor=ml_engineer, incident=incident, reason="Only one version ever served.")

    assert not fresh(incident).events.filter(kind=EventKind.ROLLBACK).exists()


# --- Through the incident page ------------------------------------------------------------------


def test_the_incident_page_offers_the_rollback_to_the_team_with_the_last_good_version_chosen(
    client, incident, history, ml_engineer
):
    client.force_login(ml_engineer)

    form = client.get(incident.get_absolute_url()).context["rollback_form"]

    assert form is not None and form.initial["to_version"] == history[0]


def test_support_rolls_back_from_the_incident(incident, feature, eu, support_agent):
    """DESIGN: support may trigger a rollback, from an incident (not from the feature page)."""
    event = incident_rollback(actor=support_agent, incident=incident, reason="Misrouting since v2; owner unreachable.")

    assert event.incident_id == incident.pk and live_number(feature, eu) == 1


@pytest.mark.parametrize("persona", ["on_call"])
def test_the_incident_page_offers_no_rollback_to_those_who_cannot(client, request, incident, persona):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(incident.get_absolute_url()).context["rollback_form"] is None


def test_rolling_back_through_the_incident_page(client, incident, history, ml_engineer, feature, eu):
    v1, _v2 = history
    client.force_login(ml_engineer)
    asked = {"to_version": v1.pk, "reason": "Misrouting since v2."}

    # The page's button asks to confirm first, as the feature page does: nothing changes yet.
    confirm = client.post(reverse("incidents:rollback", args=[incident.pk]), asked)
    assert confirm.status_code == 200 and not rollbacks().exists() and live_number(feature, eu) == 2
    html = confirm.content.decode()
    assert "Roll back Claims triage in production/eu?" in html and 'name="confirm" value="1"' in html
    assert f'name="to_version" value="{v1.pk}"' in html and "Misrouting since v2." in html

    response = client.post(reverse("incidents:rollback", args=[incident.pk]), {**asked, "confirm": "1"}, follow=True)

    assert response.redirect_chain[-1][0] == incident.get_absolute_url()
    assert "Rolled back Claims triage in production/eu from v2 to v1." in response.content.decode()
    event = rollbacks().get()
    assert (event.incident_id, event.to_version, event.reason) == (incident.pk, v1, "Misrouting since v2.")
    assert live_number(feature, eu) == 1
    assert fresh(incident).events.get(kind=EventKind.ROLLBACK).deployment_event == event


def test_the_incident_page_refuses_a_rollback_without_a_reason(client, incident, history, ml_engineer, feature, eu):
    client.force_login(ml_engineer)

    response = client.post(
        reverse("incidents:rollback", args=[incident.pk]), {"to_version": history[0].pk, "reason": ""}
    )

    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    assert not rollbacks().exists() and live_number(feature, eu) == 2


def test_the_incident_page_refuses_a_rollback_by_someone_outside_the_team(
    client, incident, history, other_product_owner, feature, eu
):
    client.force_login(other_product_owner)

    response = client.post(
        reverse("incidents:rollback", args=[incident.pk]), {"to_version": history[0].pk, "reason": "Please."}
    )

    assert response.status_code == 403
    assert not rollbacks().exists() and live_number(feature, eu) == 2


# --- Through the API ----------------------------------------------------------------------------


def rollback_url(incident):
    return f"/api/v1/incidents/{incident.pk}/rollback/"


def test_rolling_back_through_the_api(client, incident, ml_engineer, bearer, feature, eu):
    response = client.post(
        rollback_url(incident),
        {"reason": "Misrouting since v2."},
        content_type="application/json",
        **bearer(ml_engineer, "ci"),
    )

    assert response.status_code == 201, response.content
    event = rollbacks().get()
    assert response.json()["id"] == event.pk
    assert (event.incident_id, event.to_version.number) == (incident.pk, 1)
    assert live_number(feature, eu) == 1
    assert fresh(incident).events.get(kind=EventKind.ROLLBACK).deployment_event == event
    assert AuditEvent.objects.get(action="incident.rolled_back").source == "api"


def test_the_api_rolls_back_to_a_named_version_number(client, releases, open_incident, ml_engineer, feature, eu):
    releases(3)
    incident = open_incident(severity="sev1")
    client.force_login(ml_engineer)

    response = client.post(
        rollback_url(incident), {"reason": "Back to v1.", "to_version": 1}, content_type="application/json"
    )

    assert response.status_code == 201 and live_number(feature, eu) == 1


@pytest.mark.parametrize(
    "persona, body, status",
    [
        ("ml_engineer", {"reason": ""}, 400),
        ("ml_engineer", {"reason": "x", "to_version": 99}, 400),
        ("other_product_owner", {"reason": "Please."}, 403),
        ("auditor", {"reason": "Please."}, 403),
    ],
)
def test_the_api_refuses_what_the_service_refuses(client, request, incident, feature, eu, persona, body, status):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(rollback_url(incident), body, content_type="application/json")

    assert response.status_code == status, response.content
    assert not rollbacks().exists() and live_number(feature, eu) == 2


def test_the_api_refuses_a_closed_incident_with_409(client, incident, on_call, ml_engineer):
    incident_transition(actor=on_call, incident=incident, status="resolved")
    incident_transition(actor=on_call, incident=incident, status="closed", root_cause="Prompt.", follow_ups="Test.")
    client.force_login(ml_engineer)

    response = client.post(rollback_url(incident), {"reason": "Too late."}, content_type="application/json")

    assert response.status_code == 409 and incident.reference in response.json()["detail"]
