"""Opening an incident fills in the version that was live when the impact began, from the deployment
history; gives it to the feature's incident owner; tells the incident and accountable owners; and records
what was live in the audit trail. Impossible or forbidden incidents are refused before anything is written."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from incidents.choices import EventKind, IncidentStatus
from incidents.models import Incident, IncidentEvent
from registry.models import AuditEvent, DeploymentEvent, Notification, Region
from tests.incidents.conftest import hours_ago


def nothing_written():
    return not Incident.objects.exists() and not AuditEvent.objects.filter(action__startswith="incident.").exists()


@pytest.mark.parametrize(
    "impact_hours_ago, expected",
    [
        pytest.param(2, 1, id="between-v1-and-v2-is-v1"),
        pytest.param(0.5, 2, id="after-v2-is-v2"),
        pytest.param(4, None, id="before-v1-is-nothing"),
    ],
)
def test_the_version_live_at_impact_start_is_filled_in_from_the_deployment_history(
    history, open_incident, impact_hours_ago, expected
):
    incident = open_incident(impact_start=timezone.now() - timedelta(hours=impact_hours_ago))

    if expected is None:
        assert (incident.live_version, incident.live_event) == (None, None)
    else:
        assert incident.live_version == history[expected - 1]
        assert incident.live_event == DeploymentEvent.objects.get(
            to_version=incident.live_version, region=incident.region
        )


def test_the_live_version_is_that_of_the_incidents_own_region(history, open_incident, us, eu, ml_engineer):
    """v2 was rolled back in us only: an incident there after the rollback names v1, one in eu names v2."""
    from registry.services import deployment_rollback

    v1, v2 = history
    deployment_rollback(
        actor=ml_engineer, feature=v1.feature, environment="production", region=us, reason="Complaints in us."
    )

    assert open_incident(region=us, impact_start=timezone.now()).live_version == v1
    assert open_incident(region=eu, impact_start=timezone.now()).live_version == v2


def test_the_incident_is_owned_by_the_features_incident_owner(history, open_incident, feature, on_call, support_agent):
    incident = open_incident()

    assert incident.owner == on_call == feature.incident_owner
    assert incident.reporter == support_agent
    assert incident.status == IncidentStatus.OPEN
    assert incident.source == "manual"
    assert incident.reference == f"INC-{incident.pk}"


def test_the_incident_and_accountable_owners_are_told_with_what_was_live(
    history, open_incident, on_call, product_owner, support_agent
):
    incident = open_incident(severity="sev1")

    notices = Notification.objects.filter(key=f"incident-opened:{incident.pk}")
    assert sorted(notices.values_list("user__username", flat=True)) == sorted(
        [on_call.username, product_owner.username]
    )
    notice = notices.first()
    assert notice.subject.startswith("SEV1 on Claims triage")
    assert "v2 (" in notice.body and "production/eu" in notice.body
    assert "On call, then the claims product owner." in notice.body
    assert notice.url == incident.get_absolute_url()
    assert not Notification.objects.filter(user=support_agent).exists()


def test_opening_is_audited_with_a_summary_of_what_was_live(history, open_incident, support_agent, pins):
    _v1, v2 = history
    incident = open_incident(impact_start=hours_ago(0, minutes=10))

    audit = AuditEvent.objects.get(action="incident.opened")
    assert (audit.actor, audit.object_type, audit.object_id, audit.feature_id) == (
        support_agent,
        "incident",
        str(incident.pk),
        incident.feature_id,
    )
    live = audit.payload["live"]
    assert live["version"] == 2
    assert live["model"] == f"{pins['model'].vendor.slug}/claude-sonnet-4"
    assert live["prompt"] == str(v2.prompt) and live["policy_pack"] == str(v2.policy_pack)
    assert live["promoted_by"] == "pat-product"
    assert (audit.payload["severity"], audit.payload["region"], audit.payload["environment"]) == (
        "sev2",
        "eu",
        "production",
    )
    [opened] = IncidentEvent.objects.filter(incident=incident)
    assert opened.kind == EventKind.OPENED and opened.actor == support_agent and opened.payload["live"] == live


def test_opening_with_nothing_live_says_so_in_the_audit_trail(open_incident, feature):
    open_incident()

    assert AuditEvent.objects.get(action="incident.opened").payload["live"] == {}


def test_it_refuses_an_impact_that_starts_in_the_future(history, open_incident):
    with pytest.raises(ValidationError) as refused:
        open_incident(impact_start=timezone.now() + timedelta(hours=1))

    assert "impact_start" in refused.value.message_dict
    assert nothing_written()


def test_it_refuses_a_region_the_feature_does_not_serve(history, open_incident):
    uk = Region.objects.get_or_create(code="uk", defaults={"name": "United Kingdom"})[0]

    with pytest.raises(ValidationError) as refused:
        open_incident(region=uk)

    assert "uk" in refused.value.message_dict["region"][0]
    assert nothing_written()


def test_it_refuses_auditors_who_only_read(history, open_incident, auditor):
    with pytest.raises(PermissionDenied):
        open_incident(actor=auditor)

    assert nothing_written()


def test_an_outsider_cannot_open_an_incident_on_a_restricted_feature(open_incident, outsider, restricted_feature):
    with pytest.raises(PermissionDenied):
        open_incident(actor=outsider, feature=restricted_feature)

    assert nothing_written()


def test_anyone_signed_in_may_open_one_on_a_feature_they_can_see(open_incident, outsider):
    assert open_incident(actor=outsider, severity="sev3").reporter == outsider


def test_only_support_the_team_or_governance_open_a_sev1_or_sev2(open_incident, outsider, other_product_owner):
    """A SEV1/SEV2 freezes the team's promotions: others file SEV3 for support to raise."""
    for person in (outsider, other_product_owner):
        with pytest.raises(PermissionDenied, match="SEV1 or SEV2"):
            open_incident(actor=person, severity="sev1")
    assert nothing_written()


def test_it_refuses_an_incident_detected_before_its_impact_began(history, open_incident):
    with pytest.raises(ValidationError) as refused:
        open_incident(impact_start=hours_ago(1), detected_at=hours_ago(2))

    assert "impact_start" in refused.value.message_dict
    assert nothing_written()


def test_it_refuses_an_unknown_severity_or_environment(open_incident):
    with pytest.raises(ValidationError):
        open_incident(severity="sev9")
    with pytest.raises(ValidationError):
        open_incident(environment="moon")

    assert nothing_written()
