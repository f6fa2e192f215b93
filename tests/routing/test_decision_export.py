"""A feature's decision ledger exported for a range of UTC days, as CSV or JSON, streamed, from a page reached
from the feature and over the API: for the feature's team, governance admins and auditors; a 404 for those
who may not see the feature; the range checked with clear errors; every export audited."""

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from registry.models import AuditEvent
from routing.models import DecisionRecord
from tests.factories import FeatureFactory


def day(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def feature(team, ml_engineer, eu):
    feature = FeatureFactory(slug="claims-triage", name="Claims triage", team=team)
    for request_id, at, served in (
        ("before", "2026-02-28T23:59:59", True),
        ("first", "2026-03-01T00:00:00", True),
        ("=cmd|' /C calc'!A0", "2026-03-10T12:00:00", False),
        ("last", "2026-03-31T23:59:59", True),
        ("after", "2026-04-01T00:00:00", True),
    ):
        DecisionRecord.objects.create(
            request_id=request_id,
            token=f"tok-{request_id[:10]}",
            feature=feature,
            region=eu,
            environment="production",
            served=served,
            decided_at=day(at),
            recorded_by=ml_engineer,
            recorded_at=day(at) + timedelta(minutes=1),
        )
    return feature


@pytest.fixture
def other(other_team, ml_engineer, eu):
    """Another feature's record in the same days: never in this feature's export."""
    feature = FeatureFactory(slug="payments-help", team=other_team)
    DecisionRecord.objects.create(
        request_id="someone-else",
        token="tok",
        feature=feature,
        region=eu,
        environment="production",
        served=True,
        decided_at=day("2026-03-05T10:00:00"),
        recorded_by=ml_engineer,
        recorded_at=day("2026-03-05T10:00:00"),
    )
    return feature


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def export_url(feature):
    return f"/api/v1/features/{feature.slug}/decisions/export/"


def body(response):
    return b"".join(response.streaming_content).decode()


MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def test_the_csv_holds_the_days_asked_for_both_included_and_nothing_else(feature, other, ml_engineer):
    response = api(ml_engineer).get(export_url(feature), {**MARCH, "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.streaming
    assert 'filename="decisions-claims-triage-2026-03-01-2026-03-31.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body(response))))
    assert [row["request_id"] for row in rows] == ["first", "'=cmd|' /C calc'!A0", "last"]  # a formula stays text
    assert rows[0]["region"] == "eu" and rows[0]["served"] == "yes" and rows[1]["served"] == "no"
    assert rows[0]["decision"] == "tok-first" and rows[0]["recorded_by"] == ml_engineer.username


def test_the_json_export_says_what_it_holds(feature, governance_admin):
    response = api(governance_admin).get(export_url(feature), {**MARCH, "format": "json"})

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(body(response))
    assert (data["feature"], data["from"], data["to"], data["count"]) == (
        "claims-triage",
        "2026-03-01",
        "2026-03-31",
        3,
    )
    assert [record["request_id"] for record in data["records"]] == ["first", "=cmd|' /C calc'!A0", "last"]
    assert data["records"][0]["decided_at"] == "2026-03-01T00:00:00+00:00"


def test_an_empty_range_is_an_empty_file_not_an_error(feature, auditor):
    data = json.loads(
        body(api(auditor).get(export_url(feature), {"from": "2025-01-01", "to": "2025-01-31", "format": "json"}))
    )

    assert data["records"] == [] and data["count"] == 0


def test_every_export_is_audited_with_its_range_format_and_count(feature, ml_engineer):
    api(ml_engineer).get(export_url(feature), {**MARCH, "format": "csv"})

    event = AuditEvent.objects.get(action="decisions.exported")
    assert (event.actor, event.feature_id) == (ml_engineer, feature.pk)
    assert event.payload == {"from": "2026-03-01", "to": "2026-03-31", "format": "csv", "records": 3}


@pytest.mark.parametrize(
    "query, field, words",
    [
        ({"to": "2026-03-31"}, "from", "YYYY-MM-DD"),
        ({"from": "2026-03-01", "to": "31/03/2026"}, "to", "not a day"),
        ({"from": "2026-03-31", "to": "2026-03-01"}, "to", "before the first"),
        ({"from": "2025-01-01", "to": "2026-03-01"}, "to", "At most 366 days"),
        ({**MARCH, "format": "xml"}, "format", "csv, json"),
    ],
)
def test_a_bad_range_is_a_clear_400_and_exports_nothing(feature, ml_engineer, query, field, words):
    response = api(ml_engineer).get(export_url(feature), query)

    assert response.status_code == 400
    assert words in str(response.json()[field])
    assert not AuditEvent.objects.filter(action="decisions.exported").exists()


def test_who_may_export(feature, support_agent, other_product_owner, outsider):
    for person in (support_agent, other_product_owner, outsider):  # they see the feature, it is not theirs
        assert api(person).get(export_url(feature), MARCH).status_code == 403


def test_a_restricted_feature_is_404_to_those_who_may_not_see_it(feature, outsider, security_reviewer, client):
    feature.restricted = True
    feature.save()
    for person in (outsider, security_reviewer):
        assert api(person).get(export_url(feature), MARCH).status_code == 404
        client.force_login(person)
        assert client.get(reverse("routing:decision_export", args=[feature.slug]), MARCH).status_code == 404
    assert not AuditEvent.objects.filter(action="decisions.exported").exists()


# --- The page ------------------------------------------------------------------------------------------


def test_the_feature_page_leads_to_the_export_page(client, feature, ml_engineer, support_agent):
    url = reverse("routing:decision_export", args=[feature.slug])
    client.force_login(ml_engineer)
    assert url in client.get(feature.get_absolute_url()).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "Decision log of Claims triage" in page.content.decode()

    client.force_login(support_agent)
    assert url not in client.get(feature.get_absolute_url()).content.decode()
    assert client.get(url).status_code == 403


def test_the_page_downloads_the_range_or_says_what_is_wrong(client, feature, ml_engineer):
    client.force_login(ml_engineer)
    url = reverse("routing:decision_export", args=[feature.slug])

    download = client.get(url, {**MARCH, "format": "csv"})
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(body(download))))) == 3

    refused = client.get(url, {"from": "2026-03-31", "to": "2026-03-01", "format": "csv"})
    assert refused.status_code == 200 and "before the first" in refused.content.decode()
    assert AuditEvent.objects.filter(action="decisions.exported").count() == 1


def test_the_page_offers_the_last_30_days_by_default(client, feature, ml_engineer):
    client.force_login(ml_engineer)

    page = client.get(reverse("routing:decision_export", args=[feature.slug])).content.decode()

    first, last = (
        date.fromisoformat(value) for value in re.findall(r'type="date" name="(?:from|to)" value="([0-9-]+)"', page)
    )
    assert (last - first).days == 29
