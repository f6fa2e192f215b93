"""An open or investigating SEV1/SEV2 freezes promotions of its feature: the promotion is refused naming
the incident, rollbacks stay allowed, the feature page says so. A SEV3 does not freeze; mitigating lifts it."""

import pytest

from approvals.services import promotion_execute
from core.exceptions import Conflict
from incidents.services import incident_transition
from registry.extensions import promotion_blockers
from registry.models import Deployment, DeploymentEvent
from registry.services import deployment_rollback


def live_number(feature, region):
    return Deployment.objects.get(feature=feature, environment="production", region=region).version.number


@pytest.fixture
def v1_live_v2_approved(releases, new_version, approved_request):
    [v1] = releases(1)
    v2 = new_version(summary="Release 2.")
    return v1, v2, approved_request(v2)


@pytest.mark.parametrize("severity", ["sev1", "sev2"])
@pytest.mark.parametrize("status", ["open", "investigating"])
def test_an_open_or_investigating_sev1_or_sev2_refuses_promotion_naming_the_incident(
    v1_live_v2_approved, open_incident, on_call, product_owner, feature, eu, us, severity, status
):
    _v1, _v2, approval = v1_live_v2_approved
    incident = open_incident(severity=severity)
    if status != "open":
        incident_transition(actor=on_call, incident=incident, status=status)

    with pytest.raises(Conflict) as refused:
        promotion_execute(actor=product_owner, request=approval)

    assert incident.reference in refused.value.message
    assert "frozen" in refused.value.message
    assert (live_number(feature, eu), live_number(feature, us)) == (1, 1)
    assert not DeploymentEvent.objects.filter(approval_request_id=approval.pk).exists()


def test_a_freeze_in_one_region_freezes_the_whole_feature(v1_live_v2_approved, open_incident, product_owner, us):
    _v1, _v2, approval = v1_live_v2_approved
    open_incident(severity="sev1", region=us)

    with pytest.raises(Conflict):
        promotion_execute(actor=product_owner, request=approval)


def test_rollback_still_works_during_a_freeze(releases, open_incident, ml_engineer, feature, eu):
    v1, v2 = releases(2)
    open_incident(severity="sev1")

    event = deployment_rollback(
        actor=ml_engineer,
        feature=feature,
        environment="production",
        region=eu,
        reason="SEV1: back to the last good version.",
    )

    assert (event.from_version, event.to_version) == (v2, v1)
    assert live_number(feature, eu) == 1


@pytest.mark.parametrize("severity", ["sev3", "sev4"])
def test_a_sev3_or_sev4_does_not_freeze(v1_live_v2_approved, open_incident, product_owner, feature, eu, severity):
    _v1, _v2, approval = v1_live_v2_approved
    open_incident(severity=severity)

    assert promotion_blockers(feature) == []
    promotion_execute(actor=product_owner, request=approval)
    assert live_number(feature, eu) == 2


@pytest.mark.parametrize("lifted_by", ["mitigated", "resolved"])
def test_once_mitigated_the_freeze_lifts(
    v1_live_v2_approved, open_incident, on_call, product_owner, feature, eu, lifted_by
):
    _v1, _v2, approval = v1_live_v2_approved
    incident = open_incident(severity="sev1")
    assert promotion_blockers(feature)

    incident_transition(actor=on_call, incident=incident, status=lifted_by)

    assert promotion_blockers(feature) == []
    promotion_execute(actor=product_owner, request=approval)
    assert live_number(feature, eu) == 2


def test_investigating_again_after_mitigation_freezes_again(v1_live_v2_approved, open_incident, on_call, product_owner):
    _v1, _v2, approval = v1_live_v2_approved
    incident = open_incident(severity="sev2")
    incident_transition(actor=on_call, incident=incident, status="mitigated")
    incident_transition(actor=on_call, incident=incident, status="investigating", note="It is back.")

    with pytest.raises(Conflict) as refused:
        promotion_execute(actor=product_owner, request=approval)
    assert incident.reference in refused.value.message


def test_an_incident_on_another_feature_freezes_nothing_here(
    v1_live_v2_approved, open_incident, restricted_feature, ml_engineer, product_owner, feature, eu
):
    _v1, _v2, approval = v1_live_v2_approved
    open_incident(actor=ml_engineer, feature=restricted_feature, severity="sev1")

    promotion_execute(actor=product_owner, request=approval)
    assert live_number(feature, eu) == 2


def test_promotion_blockers_lists_the_incident(open_incident, feature):
    assert promotion_blockers(feature) == []
    incident = open_incident(severity="sev1", title="Wrong queue for motor claims")

    [reason] = promotion_blockers(feature)

    assert reason.startswith(f"{incident.reference} (SEV1, open)")
    assert "Wrong queue for motor claims" in reason


def test_the_feature_page_shows_promotions_frozen_with_the_reference(
    client, open_incident, feature, product_owner, on_call
):
    client.force_login(product_owner)
    assert "Promotions frozen" not in client.get(feature.get_absolute_url()).content.decode()

    incident = open_incident(severity="sev1")
    page = client.get(feature.get_absolute_url()).content.decode()

    assert "Promotions frozen" in page
    assert incident.reference in page

    incident_transition(actor=on_call, incident=incident, status="mitigated")
    assert "Promotions frozen" not in client.get(feature.get_absolute_url()).content.decode()
