"""What routing adds to a serious incident's report and evidence: the decisions the ledger recorded for the
incident's feature during its impact window (registered on ``incidents.extensions``), counted by route and
listed, the window's ends included, nothing of other features or moments."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.extensions import report_section_providers, report_sections
from incidents.services import incident_open
from routing.models import DecisionRecord
from routing.reports import decisions_section
from tests.factories import FeatureFactory

pytestmark = pytest.mark.django_db


def test_routing_provides_the_decisions_section():
    assert decisions_section in report_section_providers


def test_the_decisions_of_the_window_counted_and_listed(live, feature, eu, us, support_agent, governance_admin):
    now = timezone.now()
    start, end = now - timedelta(hours=1), now
    incident = incident_open(
        actor=support_agent,
        feature=feature,
        environment="production",
        region=eu,
        severity="sev3",
        impact_start=start,
        title="Slow triage",
        description="p95 over 4 s.",
    )
    other = FeatureFactory(team=feature.team)

    def record(request_id, at, *, region=eu, served=True, target=feature):
        DecisionRecord.objects.create(
            request_id=request_id,
            token="t",
            feature=target,
            version=live,
            region=region,
            environment="production",
            served=served,
            decided_at=at,
            recorded_by=governance_admin,
            recorded_at=now,
        )

    record("at-start", start)
    record("at-end", end)
    record("refused", now - timedelta(minutes=30), served=False)
    record("elsewhere", now - timedelta(minutes=20), region=us)
    record("before", start - timedelta(seconds=1))
    record("other-feature", now - timedelta(minutes=10), target=other)

    [section] = report_sections(incident, start=start, end=end)

    assert section["key"] == "decisions"
    assert section["data"]["total"] == 4
    assert section["data"]["in_incident_region"] == {"total": 3, "served": 2}
    assert [row[1] for row in section["rows"]] == ["at-end", "elsewhere", "refused", "at-start"]
    assert "4 decisions recorded" in section["summary"] and "3 in production/eu, 2 of them served" in section["summary"]
