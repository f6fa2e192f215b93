"""Incidents on the approvals test world: a high-risk feature serving eu and us, versions taken live through
evidence, a gate and sign-offs (the fixtures of ``tests/approvals/conftest.py``), an on-call incident owner
who is not the accountable owner, a restricted feature of the same team, and helpers that open incidents and
place promotions at chosen moments of the deployment history."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import incident_open
from registry.models import DeploymentEvent
from registry.services import api_token_create
from tests.approvals import conftest as gates
from tests.factories import FeatureFactory, TeamFactory, UserFactory

# The approvals world, re-exported: its gates, pins, reviewers, and the helpers that take a version live.
default_gates = gates.default_gates
pins = gates.pins
new_version = gates.new_version
record_evidence = gates.record_evidence
second_ml_engineer = gates.second_ml_engineer
second_security_reviewer = gates.second_security_reviewer
reviewers = gates.reviewers
sign_all = gates.sign_all
request_gate = gates.request_gate
approved_request = gates.approved_request
go_live = gates.go_live
fresh = gates.fresh


def hours_ago(hours, *, minutes=0):
    return timezone.now() - timedelta(hours=hours, minutes=minutes)


def place_promotion(version, at):
    """Move the moment ``version`` went live (every region) to ``at``: history as if promoted then."""
    assert DeploymentEvent.objects.filter(to_version=version).update(at=at), f"{version} never went live"


@pytest.fixture
def on_call(db):
    """The feature's incident owner: an SRE on call, in the platform team (not the feature's) and holding no
    role: someone who can hold the job (auditors and people with no team or role cannot)."""
    return UserFactory(
        username="oona-oncall", first_name="Oona", last_name="Oncall", teams=[TeamFactory(slug="platform")]
    )


@pytest.fixture
def feature(team, product_owner, on_call, eu, us):
    return FeatureFactory(
        slug="claims-triage",
        name="Claims triage",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        incident_owner=on_call,
        escalation_path="On call, then the claims product owner.",
        rollback_path="Point the flag back at the previous version; no data migration involved.",
        monitors="https://grafana.example.test/d/claims-triage",
        slos="p95 latency under 2s\nComplaint rate under 0.5%",
        regions=[eu, us],
    )


@pytest.fixture
def restricted_feature(team, product_owner, eu, us):
    return FeatureFactory(
        slug="fraud-signals",
        name="Fraud signals",
        team=team,
        restricted=True,
        risk_tier="high",
        accountable_owner=product_owner,
        incident_owner=product_owner,
        regions=[eu, us],
        rollback_path="Flip the flag back.",
        monitors="https://grafana.example.test/d/fraud",
    )


@pytest.fixture
def releases(new_version, go_live):
    """Take ``count`` versions live one after the other in eu and us; returns them in order."""

    def release(count, *, target=None):
        versions = []
        for number in range(1, count + 1):
            version = new_version(target=target, summary=f"Release {number}.")
            go_live(version)
            versions.append(version)
        return versions

    return release


@pytest.fixture
def history(releases):
    """v1 live since three hours ago, v2 since one hour ago (eu and us)."""
    v1, v2 = releases(2)
    place_promotion(v1, hours_ago(3))
    place_promotion(v2, hours_ago(1))
    return v1, v2


@pytest.fixture
def open_incident(support_agent, feature, eu):
    """Open an incident through the service; support reports a SEV2 in production/eu by default."""

    def open_(**overrides):
        arguments = {
            "actor": support_agent,
            "feature": feature,
            "environment": "production",
            "region": eu,
            "severity": "sev2",
            "impact_start": hours_ago(0, minutes=30),
            "title": "Claims routed to the wrong queue",
            "description": "Customers report motor claims landing in the travel queue.",
            "customer_impact": "Motor claims wait a day longer.",
        }
        return incident_open(**{**arguments, **overrides})

    return open_


@pytest.fixture
def bearer():
    """The Authorization header of a fresh API token of ``user`` (full access unless ``scopes`` say)."""

    def header(user, name="alertmanager", scopes=("full",)):
        _token, raw = api_token_create(actor=user, user=user, name=name, scopes=scopes)
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    return header


@pytest.fixture
def tuned(ml_engineer, feature, pins, go_live):
    """v1 (temperature 0.1) live since three hours ago, v2 (temperature 0.7, a retrieval index) since one hour
    ago, in eu and us: two configurations an evidence snapshot must tell apart."""
    from registry.services import version_create, version_submit

    made = []
    for number, (temperature, index) in enumerate([(0.1, ""), (0.7, "claims-2026-11")], start=1):
        version = version_create(
            actor=ml_engineer,
            feature=feature,
            change_summary=f"Release {number}.",
            parameters={"temperature": temperature},
            retrieval_index=index,
            **pins,
        )
        version = version_submit(actor=ml_engineer, version=version)
        go_live(version)
        made.append(version)
    place_promotion(made[0], hours_ago(3))
    place_promotion(made[1], hours_ago(1))
    return made


@pytest.fixture
def serious_incident(open_incident, support_agent, tuned):
    """A SEV1 in production/eu while v2 is live, marked serious (fundamental rights) by support, aware since
    twenty minutes ago: the report is due in 15 days."""
    from incidents.services import incident_mark_serious

    incident = open_incident(severity="sev1")
    return incident_mark_serious(
        actor=support_agent, incident=incident, criteria=["rights"], aware_at=hours_ago(0, minutes=20)
    )


@pytest.fixture
def decided(feature, governance_admin):
    """Record a decision of resolve in the ledger for ``feature`` at ``at`` (as a router would)."""
    from routing.models import DecisionRecord

    def record(at, *, version, region, request_id, served=True, environment="production"):
        return DecisionRecord.objects.create(
            request_id=request_id,
            token="t",
            feature=feature,
            version=version,
            region=region,
            environment=environment,
            served=served,
            decided_at=at,
            recorded_by=governance_admin,
            recorded_at=at,
        )

    return record
