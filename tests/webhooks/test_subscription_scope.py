"""Who gets which event: a subscription gets the events it chose, of its team's features only (every
feature when it has no team), while it is active. A restricted feature's events never reach another
team's subscription."""

from registry.services import version_submit
from tests.factories import FeatureFactory, VersionFactory
from tests.webhooks.conftest import events_delivered, open_incident
from webhooks.choices import WebhookEvent
from webhooks.services import subscription_update


def test_each_event_reaches_the_subscriptions_that_match_and_no_other(
    subscribe,
    feature,
    other_team,
    team,
    new_version,
    product_owner,
    other_product_owner,
    support_agent,
):
    everything = subscribe()
    claims_all = subscribe(actor=product_owner, team=team)
    claims_incidents = subscribe(actor=product_owner, team=team, events=[WebhookEvent.INCIDENT_OPENED])
    payments = subscribe(actor=other_product_owner, team=other_team)
    disabled = subscribe(team=team, active=False)

    new_version()
    open_incident(support_agent, feature)

    assert events_delivered(everything) == ["incident.opened", "version.submitted"]
    assert events_delivered(claims_all) == ["incident.opened", "version.submitted"]
    assert events_delivered(claims_incidents) == ["incident.opened"]
    assert events_delivered(payments) == []
    assert events_delivered(disabled) == []


def test_a_restricted_features_events_reach_its_own_team_and_governance_only(
    subscribe,
    team,
    other_team,
    product_owner,
    other_product_owner,
    governance_admin,
    eu,
):
    everything = subscribe()
    claims = subscribe(actor=product_owner, team=team)
    payments = subscribe(actor=other_product_owner, team=other_team)
    secret = FeatureFactory(
        slug="fraud-signals", team=other_team, restricted=True, regions=[eu], accountable_owner=other_product_owner
    )

    open_incident(governance_admin, secret)
    version_submit(actor=other_product_owner, version=VersionFactory(feature=secret, author=other_product_owner))

    assert events_delivered(claims) == []
    assert events_delivered(payments) == ["incident.opened", "version.submitted"]
    assert events_delivered(everything) == ["incident.opened", "version.submitted"]
    assert {d.payload["feature"]["slug"] for d in payments.deliveries.all()} == {"fraud-signals"}


def test_disabling_stops_new_events_and_enabling_starts_them_again(subscribe, feature, support_agent, governance_admin):
    hook = subscribe()
    subscription_update(actor=governance_admin, subscription=hook, active=False)
    open_incident(support_agent, feature)
    subscription_update(actor=governance_admin, subscription=hook, active=True)
    open_incident(support_agent, feature)

    assert events_delivered(hook) == ["incident.opened"]
