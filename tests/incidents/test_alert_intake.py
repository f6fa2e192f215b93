"""Alertmanager's webhook opens one incident per alert fingerprint, linked to the version live when the
alert started, however often (or however concurrently) the same alert is delivered; a resolved alert adds
one timeline entry, once; a bad label or a missing token is refused."""

import copy
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from incidents.choices import EventKind
from incidents.models import Incident
from registry.models import AuditEvent
from tests.factories import UserFactory

URL = "/api/v1/alerts/alertmanager/"
FINGERPRINT = "b3c1f0e2a9d84f77"


def alertmanager_payload(
    *,
    status="firing",
    fingerprint=FINGERPRINT,
    feature="claims-triage",
    region="eu",
    severity="critical",
    starts_at=None,
):
    """A webhook body as Alertmanager (v0.27, webhook version 4) sends it."""
    starts_at = starts_at or timezone.now() - timedelta(minutes=20)
    labels = {
        "alertname": "ClaimsMisrouteRateHigh",
        "feature": feature,
        "region": region,
        "severity": severity,
        "environment": "production",
        "job": "claims-triage",
        "namespace": "claims",
    }
    alert = {
        "status": status,
        "labels": labels,
        "annotations": {
            "summary": "Misroute rate above 5% for claims-triage in eu",
            "description": "12% of claims routed to the wrong queue over 15m.",
            "runbook_url": "https://runbooks.example.test/claims/misroute",
        },
        # Go's RFC 3339 with nanoseconds, as Alertmanager writes it.
        "startsAt": starts_at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "generatorURL": "https://prometheus.example.test/graph?g0.expr=claims_misroute_ratio+%3E+0.05",
        "fingerprint": fingerprint,
    }
    return {
        "receiver": "gatehouse",
        "status": status,
        "alerts": [alert],
        "groupLabels": {"alertname": "ClaimsMisrouteRateHigh"},
        "commonLabels": labels,
        "commonAnnotations": alert["annotations"],
        "externalURL": "https://alertmanager.example.test",
        "version": "4",
        "groupKey": '{}:{alertname="ClaimsMisrouteRateHigh"}',
        "truncatedAlerts": 0,
    }


@pytest.fixture
def alertmanager(db):
    """The service account Alertmanager authenticates as: the support role (as the README says), no team."""
    return UserFactory(username="alertmanager-bot", roles=["support"])


@pytest.fixture
def deliver(client, alertmanager, bearer):
    headers = bearer(alertmanager, scopes=["alert_intake"])

    def post(payload):
        return client.post(URL, payload, content_type="application/json", **headers)

    return post


def alert_entries(incident):
    return list(
        incident.events.filter(kind=EventKind.ALERT).order_by("at", "id").values_list("body", "payload__status")
    )


def test_a_firing_alert_opens_an_incident_linked_to_the_live_version(deliver, history, alertmanager, on_call):
    _v1, v2 = history

    response = deliver(alertmanager_payload())

    assert response.status_code == 200, response.content
    incident = Incident.objects.get()
    assert response.json() == [{"fingerprint": FINGERPRINT, "result": "opened", "incident": incident.pk}]
    assert (incident.live_version, incident.source, incident.alert_fingerprint) == (v2, "alert", FINGERPRINT)
    assert (incident.severity, incident.region.code, incident.environment) == ("sev1", "eu", "production")
    assert incident.title == "Misroute rate above 5% for claims-triage in eu"
    assert incident.description == "12% of claims routed to the wrong queue over 15m."
    assert (incident.owner, incident.reporter) == (on_call, alertmanager)
    assert abs(incident.impact_start - (timezone.now() - timedelta(minutes=20))) < timedelta(minutes=1)
    assert list(incident.events.order_by("at", "id").values_list("kind", flat=True)) == ["opened", "alert"]
    assert AuditEvent.objects.get(action="incident.opened").source == "api"


def test_an_alert_that_started_before_the_last_promotion_names_the_version_live_then(deliver, history):
    v1, _v2 = history

    deliver(alertmanager_payload(starts_at=timezone.now() - timedelta(hours=2)))

    assert Incident.objects.get().live_version == v1


def test_the_same_alert_delivered_three_times_is_one_incident_with_one_alert_entry(deliver, history):
    payload = alertmanager_payload()

    results = [deliver(payload).json()[0]["result"] for _ in range(3)]

    assert results == ["opened", "unchanged", "unchanged"]
    incident = Incident.objects.get()
    assert alert_entries(incident) == [("Alert ClaimsMisrouteRateHigh firing.", "firing")]
    assert incident.events.count() == 2
    assert AuditEvent.objects.filter(action="incident.opened").count() == 1


def test_a_resolved_delivery_adds_one_alert_resolved_entry_even_when_delivered_twice(deliver, history):
    deliver(alertmanager_payload())

    first = deliver(alertmanager_payload(status="resolved"))
    second = deliver(alertmanager_payload(status="resolved"))

    assert (first.json()[0]["result"], second.json()[0]["result"]) == ("alert_resolved", "unchanged")
    incident = Incident.objects.get()
    assert alert_entries(incident) == [
        ("Alert ClaimsMisrouteRateHigh firing.", "firing"),
        ("Alert resolved.", "resolved"),
    ]
    assert AuditEvent.objects.filter(action="incident.alert_resolved").count() == 1
    assert incident.status == "open", "a resolved alert does not resolve the incident: people do"


def test_firing_again_after_resolved_adds_one_entry_to_the_same_incident(deliver, history):
    deliver(alertmanager_payload())
    deliver(alertmanager_payload(status="resolved"))

    results = [deliver(alertmanager_payload()).json()[0]["result"] for _ in range(2)]

    assert results == ["alert_firing", "unchanged"]
    incident = Incident.objects.get()
    assert [status for _body, status in alert_entries(incident)] == ["firing", "resolved", "firing"]
    assert alert_entries(incident)[-1][0] == "Alert firing again."


def test_a_resolved_alert_with_no_incident_is_ignored(deliver, history):
    response = deliver(alertmanager_payload(status="resolved"))

    assert response.status_code == 200 and response.json()[0]["result"] == "ignored"
    assert not Incident.objects.exists()


def test_after_the_incident_is_closed_the_same_alert_opens_a_new_one(deliver, history, on_call):
    from incidents.services import incident_transition

    deliver(alertmanager_payload(severity="warning"))
    first = Incident.objects.get()
    incident_transition(actor=on_call, incident=first, status="resolved")
    incident_transition(actor=on_call, incident=first, status="closed")

    assert deliver(alertmanager_payload(severity="warning")).json()[0]["result"] == "opened"
    assert Incident.objects.filter(alert_fingerprint=FINGERPRINT).count() == 2


@pytest.mark.parametrize(
    "label, severity",
    [
        ("critical", "sev1"),
        ("CRITICAL", "sev1"),
        ("page", "sev2"),
        ("error", "sev2"),
        ("warning", "sev3"),
        ("info", "sev4"),
        ("sev2", "sev2"),
        ("whatever", "sev3"),
    ],
)
def test_severity_labels_map_to_incident_severities(deliver, history, label, severity):
    deliver(alertmanager_payload(severity=label))

    assert Incident.objects.get().severity == severity


def test_a_critical_alert_freezes_promotions(deliver, history, feature):
    from registry.extensions import promotion_blockers

    deliver(alertmanager_payload(severity="critical"))

    assert Incident.objects.get().reference in promotion_blockers(feature)[0]


@pytest.mark.parametrize(
    "overrides, field",
    [({"feature": "no-such-feature"}, "labels"), ({"region": "mars"}, "labels"), ({"region": "apac"}, "region")],
)
def test_an_unknown_feature_or_region_label_is_an_error_outcome_for_that_alert(deliver, history, overrides, field):
    """The batch is answered (200, one outcome per alert): Alertmanager must not redeliver it forever."""
    response = deliver(alertmanager_payload(**overrides))

    assert response.status_code == 200
    outcome = response.json()[0]
    assert outcome["result"] == "error" and outcome["detail"]
    assert not Incident.objects.exists()


def test_a_restricted_feature_is_unknown_to_a_token_without_access(deliver, restricted_feature):
    hidden = deliver(alertmanager_payload(feature="fraud-signals")).json()[0]
    missing = deliver(alertmanager_payload(feature="no-such-feature", fingerprint="other")).json()[0]

    assert hidden["result"] == missing["result"] == "error"
    assert hidden["detail"].replace("fraud-signals", "X") == missing["detail"].replace("no-such-feature", "X")
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda payload: payload.update(alerts=[]), id="no-alerts"),
        pytest.param(lambda payload: payload["alerts"][0].pop("fingerprint"), id="no-fingerprint"),
        pytest.param(lambda payload: payload["alerts"][0].update(status="exploded"), id="unknown-status"),
    ],
)
def test_a_malformed_payload_is_refused_with_400(deliver, history, mangle):
    payload = alertmanager_payload()
    mangle(payload)

    assert deliver(payload).status_code == 400
    assert not Incident.objects.exists()


def test_anonymous_deliveries_are_refused_with_401(client, history):
    response = client.post(URL, alertmanager_payload(), content_type="application/json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Incident.objects.exists()


def test_a_wrong_token_is_refused_with_401(client, history):
    response = client.post(
        URL, alertmanager_payload(), content_type="application/json", HTTP_AUTHORIZATION="Bearer gh_not-a-real-token"
    )

    assert response.status_code == 401 and not Incident.objects.exists()


def test_a_delivery_that_loses_the_race_to_open_the_incident_is_answered_as_a_repeat(
    deliver, history, alertmanager, monkeypatch
):
    """Deterministic form of the race: another worker opens the incident after this delivery looked for one
    and before it opens its own."""
    from incidents import services

    payload = alertmanager_payload()
    visible = services.features_visible_to
    raced = []

    def other_worker_wins_first(user):
        if not raced:
            raced.append(True)
            services.alertmanager_ingest(actor=alertmanager, payload=copy.deepcopy(payload))
        return visible(user)

    monkeypatch.setattr(services, "features_visible_to", other_worker_wins_first)

    response = deliver(payload)

    assert raced and Incident.objects.count() == 1
    assert response.status_code == 200, response.content
    assert response.json()[0]["result"] == "unchanged"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_deliveries_of_a_new_alert_open_exactly_one_incident(history, alertmanager, bearer):
    headers = bearer(alertmanager, scopes=["alert_intake"])
    payload = alertmanager_payload()
    count = 10
    barrier = threading.Barrier(count)
    responses = [None] * count

    def deliver_once(index):
        try:
            barrier.wait(timeout=30)
            responses[index] = Client().post(URL, copy.deepcopy(payload), content_type="application/json", **headers)
        except BaseException as error:  # noqa: BLE001 - judged below
            responses[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver_once, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not [thread for thread in threads if thread.is_alive()]
    assert not [response for response in responses if isinstance(response, BaseException)], responses
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    assert incident.events.filter(kind=EventKind.ALERT).count() == 1
    assert incident.events.count() == 2
    assert AuditEvent.objects.filter(action="incident.opened").count() == 1
    assert all(response.status_code == 200 for response in responses), [response.status_code for response in responses]
    opened = [response for response in responses if response.json()[0]["result"] == "opened"]
    assert len(opened) == 1


def test_a_caller_without_support_or_the_team_cannot_freeze_promotions_with_a_critical_alert(
    client, bearer, history, outsider
):
    """A SEV1 freezes a team's releases: a token of someone with no say cannot raise one."""
    response = client.post(
        URL,
        alertmanager_payload(severity="critical"),
        content_type="application/json",
        **bearer(outsider, scopes=["alert_intake"]),
    )

    assert response.status_code == 200
    assert response.json()[0]["result"] == "error" and "SEV1 or SEV2" in response.json()[0]["detail"]
    assert not Incident.objects.exists()


def test_one_bad_alert_does_not_hold_back_the_others_in_its_batch(deliver, history):
    good = alertmanager_payload(fingerprint="good-1")["alerts"][0]
    typo = alertmanager_payload(fingerprint="typo-1", feature="claims-triag")["alerts"][0]
    also_good = alertmanager_payload(fingerprint="good-2", region="us")["alerts"][0]

    response = deliver({"version": "4", "status": "firing", "alerts": [good, typo, also_good]})

    assert response.status_code == 200
    assert [outcome["result"] for outcome in response.json()] == ["opened", "error", "opened"]
    assert Incident.objects.count() == 2


def test_a_start_time_without_a_time_zone_is_read_as_utc(deliver, history):
    payload = alertmanager_payload()
    payload["alerts"][0]["startsAt"] = (timezone.now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%S")

    response = deliver(payload)

    assert response.status_code == 200 and response.json()[0]["result"] == "opened"


# --- Who may post, escalation, and what the answers reveal (issue 16) ----------------------------------


def test_a_signed_in_session_cannot_post_alerts(client, history, support_agent):
    """A session is not Alertmanager: signed-in people could pre-empt a fingerprint with a SEV4."""
    client.force_login(support_agent)

    response = client.post(URL, alertmanager_payload(severity="info"), content_type="application/json")

    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert not Incident.objects.exists()


@pytest.mark.parametrize("scopes", [["read"], ["full"], ["ci_write", "resolve"]])
def test_a_token_without_the_alert_intake_scope_cannot_post_alerts(client, history, alertmanager, bearer, scopes):
    response = client.post(
        URL, alertmanager_payload(), content_type="application/json", **bearer(alertmanager, scopes=scopes)
    )

    assert response.status_code == 403 and response.json()["code"] == "insufficient_scope"
    assert "alert_intake" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_an_alert_intake_token_reads_nothing_else(client, history, alertmanager, bearer):
    headers = bearer(alertmanager, scopes=["alert_intake"])

    for url in ("/api/v1/incidents/", "/api/v1/features/", "/api/v1/resolve/?feature=claims-triage&region=eu"):
        response = client.get(url, **headers)
        assert response.status_code == 403 and response.json()["code"] == "insufficient_scope", url


def test_a_critical_alert_on_a_fingerprint_filed_as_sev4_escalates_it_and_freezes_promotions(deliver, history, feature):
    from registry.extensions import promotion_blockers

    first = deliver(alertmanager_payload(severity="info")).json()[0]
    assert first["result"] == "opened" and not promotion_blockers(feature)

    second = deliver(alertmanager_payload(severity="critical")).json()[0]

    incident = Incident.objects.get()
    assert second == {"fingerprint": FINGERPRINT, "result": "escalated", "incident": incident.pk}
    assert incident.severity == "sev1"
    assert incident.reference in promotion_blockers(feature)[0]
    escalation = AuditEvent.objects.get(action="incident.escalated")
    assert escalation.payload["severity"] == ["sev4", "sev1"]
    # Delivered again: nothing more to raise.
    assert deliver(alertmanager_payload(severity="critical")).json()[0]["result"] == "unchanged"
    assert AuditEvent.objects.filter(action="incident.escalated").count() == 1


def test_a_lower_severity_never_lowers_an_incident(deliver, history):
    deliver(alertmanager_payload(severity="critical"))

    assert deliver(alertmanager_payload(severity="info")).json()[0]["result"] == "unchanged"
    assert Incident.objects.get().severity == "sev1"


def test_a_critical_alert_reopens_a_mitigated_sev4_so_the_freeze_applies(deliver, history, feature, on_call):
    from incidents.services import incident_transition
    from registry.extensions import promotion_blockers

    deliver(alertmanager_payload(severity="info"))
    incident_transition(actor=on_call, incident=Incident.objects.get(), status="mitigated")

    assert deliver(alertmanager_payload(severity="critical")).json()[0]["result"] == "escalated"

    incident = Incident.objects.get()
    assert (incident.severity, incident.status, incident.mitigated_at) == ("sev1", "investigating", None)
    assert incident.reference in promotion_blockers(feature)[0]


def test_an_open_incident_of_a_feature_the_intake_user_cannot_see_is_not_revealed(
    deliver, history, restricted_feature, product_owner, eu
):
    """The fingerprint is already taken by an incident of a restricted feature the intake account may not
    see: the answer says neither that it exists nor which it is."""
    from incidents.services import incident_open

    hidden = incident_open(
        actor=product_owner,
        feature=restricted_feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=timezone.now() - timedelta(minutes=5),
        title="Fraud scores drift",
        description="Drift.",
        alert_fingerprint=FINGERPRINT,
    )

    response = deliver(alertmanager_payload(severity="critical"))

    assert response.status_code == 200
    assert response.json() == [{"fingerprint": FINGERPRINT, "result": "accepted"}]
    text = response.content.decode()
    assert "already open" not in text and str(hidden.pk) not in text.replace(FINGERPRINT, "")
    hidden.refresh_from_db()
    assert hidden.severity == "sev3"  # nothing done to what the caller may not see
