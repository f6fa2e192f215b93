"""Decision tokens: signed receipts that support looks up (API and page), and the optional ledger."""

import uuid

import pytest
from django.utils import timezone

from incidents.services import incident_open
from routing import tokens
from routing.models import DecisionRecord
from routing.services import LEDGER_BATCH_LIMIT
from tests.routing.conftest import bearer, resolve

LEDGER = "/api/v1/decisions/ledger/"


def decision_url(token):
    return f"/api/v1/decisions/{token}/"


def test_a_token_cannot_be_forged_or_altered(router, live):
    token = resolve(router).json()["decision"]
    payload, signature = token.rsplit(":", 1)
    assert tokens.read(token).version_id == live.pk
    for forged in (
        payload + ":" + "A" * len(signature),
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "WzEsMiwz:abc",
        "not-a-token",
        "",
    ):
        with pytest.raises(tokens.BadToken):
            tokens.read(forged)
        if forged:
            response = router.get(decision_url(forged))
            assert response.status_code == 400
            assert "not a Gatehouse decision token" in response.json()["token"][0]


def test_each_token_carries_the_moment_of_its_answer(router, live):
    before = timezone.now()
    first, second = (tokens.read(resolve(router).json()["decision"]) for _ in range(2))
    assert before - timezone.timedelta(milliseconds=1) <= first.at <= second.at <= timezone.now()


def test_the_decision_shows_what_served_who_approved_on_what_evidence_and_incidents_open_then(
    router, live, feature, eu, support_agent, reviewers
):
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=timezone.now() - timezone.timedelta(minutes=5),
        title="Slow triage",
        description="p95 over 4 s.",
    )
    token = resolve(router).json()["decision"]
    body = bearer(support_agent).get(decision_url(token)).json()
    assert body["outcome"] == "served" and body["feature"] == "claims-triage" and body["region"] == "eu"
    assert body["version"] == live.number and body["config_hash"] == live.config_hash
    assert body["model"].endswith("/claude-sonnet-4")
    assert body["matches_history"] is True and body["still_live"] is True
    (approval,) = body["approvals"]
    assert approval["status"] == "approved"
    signers = {signoff["signer"] for signoff in approval["signoffs"]}
    assert {people[0].username for people in reviewers.values()} <= signers
    assert {item["kind"] for item in body["evidence"]} == {"benchmark", "safety", "privacy_review"}
    assert [item["reference"] for item in body["incidents"]] == [incident.reference]


def test_the_support_page_reads_a_pasted_token(client, router, live, support_agent):
    token = resolve(router).json()["decision"]
    client.force_login(support_agent)
    page = client.get("/decisions/", {"token": f"  {token}\n"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Served:" in html and "claude-sonnet-4" in html and f"v{live.number}" in html
    assert "still live there" in html
    bad = client.get("/decisions/", {"token": "tampered:token"}).content.decode()
    assert "not a Gatehouse decision token" in bad
    empty = client.get("/decisions/").content.decode()
    assert "Paste the" in empty


def test_a_restricted_features_decision_is_hidden_from_those_who_may_not_see_it(
    client, router, live, feature, outsider
):
    token = resolve(router).json()["decision"]
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    assert bearer(outsider).get(decision_url(token)).status_code == 404
    client.force_login(outsider)
    html = client.get("/decisions/", {"token": token}).content.decode()
    assert "may not see" in html and "claude-sonnet-4" not in html


def test_the_page_needs_a_sign_in(client):
    response = client.get("/decisions/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- The ledger ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_ten_thousand_records_in_one_call_then_lookup_by_request_id(router, live, is_postgres):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    token = resolve(router).json()["decision"]
    records = [{"request_id": f"req-{n}", "decision": token} for n in range(LEDGER_BATCH_LIMIT)]
    with CaptureQueriesContext(connection) as captured:
        response = router.post(LEDGER, {"records": records}, format="json")
    if is_postgres:  # SQLite splits inserts at its own parameter limit
        assert len(captured.captured_queries) <= 16
    assert response.status_code == 201, response.content[:300]
    assert response.json() == {"received": 10_000, "recorded": 10_000, "duplicates": 0}
    assert DecisionRecord.objects.count() == 10_000
    again = router.post(LEDGER, {"records": records[:10]}, format="json").json()
    assert again == {"received": 10, "recorded": 0, "duplicates": 10}
    found = router.get("/api/v1/decisions/", {"request_id": "req-42"}).json()
    assert [(record["request_id"], record["feature"], record["version"]) for record in found] == [
        ("req-42", "claims-triage", live.number)
    ]


def test_one_bad_record_stores_nothing(router, live):
    token = resolve(router).json()["decision"]
    records = [{"request_id": str(uuid.uuid4()), "decision": token} for _ in range(5)]
    records.append({"request_id": "bad", "decision": token + "x"})
    response = router.post(LEDGER, {"records": records}, format="json")
    assert response.status_code == 400
    assert "record 5" in response.json()["records"][0]
    assert not DecisionRecord.objects.exists()


@pytest.mark.parametrize("payload", [{"records": []}, {"records": "nope"}, {}, [1, 2]])
def test_malformed_batches_are_refused_clearly(router, payload):
    response = router.post(LEDGER, payload, format="json")
    assert response.status_code == 400
    assert "records" in response.json()


def test_more_than_ten_thousand_records_are_refused(router, live):
    token = resolve(router).json()["decision"]
    records = [{"request_id": f"r{n}", "decision": token} for n in range(LEDGER_BATCH_LIMIT + 1)]
    response = router.post(LEDGER, {"records": records}, format="json")
    assert response.status_code == 400 and "At most 10,000" in response.json()["records"][0]


def test_recording_a_restricted_features_decision_needs_sight_of_it(router, live, feature, outsider):
    token = resolve(router).json()["decision"]
    type(feature).objects.filter(pk=feature.pk).update(restricted=True)
    response = bearer(outsider).post(LEDGER, {"records": [{"request_id": "x", "decision": token}]}, format="json")
    assert response.status_code == 403
    assert not DecisionRecord.objects.exists()


def test_the_page_finds_a_request_id(client, router, live, support_agent):
    token = resolve(router).json()["decision"]
    router.post(LEDGER, {"records": [{"request_id": "abc-123", "decision": token}]}, format="json")
    client.force_login(support_agent)
    html = client.get("/decisions/", {"request_id": "abc-123"}).content.decode()
    assert "Served:" in html  # one match opens at once
    missing = client.get("/decisions/", {"request_id": "nope"}).content.decode()
    assert "No decision is recorded under the request id" in missing


def test_a_request_id_lookup_costs_the_same_queries_for_2_as_for_8_records(
    client, live, feature, eu, governance_admin, django_assert_max_num_queries
):
    """One request id recorded for many features (each team's router logs its own calls)."""
    from tests.factories import FeatureFactory
    from tests.query_counts import assert_constant

    now = timezone.now()

    def grow(count):
        for _ in range(count):
            other = FeatureFactory(team=feature.team)
            DecisionRecord.objects.create(
                request_id="req-shared",
                token="t",
                feature=other,
                version=live,
                region=eu,
                environment="production",
                served=True,
                decided_at=now,
                recorded_by=governance_admin,
                recorded_at=now,
            )

    client.force_login(governance_admin)
    assert_constant(client, "/api/v1/decisions/?request_id=req-shared", grow, django_assert_max_num_queries, 8)
