"""A high-risk feature serving two regions, its pinned configuration, reviewers for every role, and helpers
that take a version through evidence, a gate and promotion by the services, as the app does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.choices import RequestStatus, SignOffStatus
from approvals.defaults import install_default_policies
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, GateRequirement, SignOff
from approvals.services import approval_request_create, promotion_execute, signoff_decide
from registry.services import evaluation_record, version_create, version_submit
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory, UserFactory

PRODUCTION_EVIDENCE = ("benchmark", "safety", "privacy_review")
REGULATED_EVIDENCE = (*PRODUCTION_EVIDENCE, "red_team", "regional_language")


def days_ago(days, *, hours=0):
    return timezone.now() - timedelta(days=days, hours=hours)


def fresh(instance):
    """The row as the database has it now."""
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture(autouse=True)
def default_gates(db):
    """Transactional tests flush the data migration's gates; put them back (idempotent)."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)


@pytest.fixture
def second_ml_engineer(db):
    """An ML engineer outside the team who did not write the version: the one who may review it."""
    return UserFactory(username="max-ml", roles=["ml"])


@pytest.fixture
def second_security_reviewer(db):
    return UserFactory(username="sid-security", roles=["security"])


@pytest.fixture
def feature(team, product_owner, eu, us):
    return FeatureFactory(
        slug="claims-triage",
        team=team,
        risk_tier="high",
        accountable_owner=product_owner,
        incident_owner=product_owner,
        rollback_path="Point the flag back at the previous version; no data migration involved.",
        monitors="https://grafana.example.test/d/claims-triage",
        slos="p95 latency under 2s\nComplaint rate under 0.5%",
        regions=[eu, us],
    )


@pytest.fixture
def pins(eu, us):
    return {
        "model": CatalogModelFactory(identifier="claude-sonnet-4", regions=[eu, us]),
        "prompt": PromptVersionFactory(name="triage", template="Sort this claim: {{ claim }}"),
        "policy_pack": PolicyPackFactory(name="claims", allowed_regions=[eu, us]),
    }


@pytest.fixture
def new_version(ml_engineer, feature, pins):
    """Draft and submit the next version of ``feature`` (author and submitter: the team's ML engineer)."""

    def make(*, target=None, author=None, submit=True, summary="Tune the triage prompt."):
        author = author or ml_engineer
        version = version_create(actor=author, feature=target or feature, change_summary=summary, **pins)
        return version_submit(actor=author, version=version) if submit else version

    return make


@pytest.fixture
def record_evidence(ml_engineer):
    """Passing, recent evaluations of the given kinds, recorded through the service."""

    def record(version, kinds=PRODUCTION_EVIDENCE, *, run_at=None, score=0.92, threshold=0.8, actor=None):
        return [
            evaluation_record(
                actor=actor or ml_engineer,
                version=version,
                kind=kind,
                suite=f"{kind}-suite",
                metric="score",
                score=score,
                threshold=threshold,
                run_at=run_at or days_ago(1),
            )
            for kind in kinds
        ]

    return record


@pytest.fixture
def reviewers(second_ml_engineer, security_reviewer, second_security_reviewer, legal_reviewer, product_owner):
    """Who signs each role's slots (slot n takes the n-th person) when the ML engineer requested."""
    return {
        "ml": [second_ml_engineer],
        "security": [security_reviewer, second_security_reviewer],
        "legal": [legal_reviewer],
        "product": [product_owner],
    }


@pytest.fixture
def sign_all(reviewers):
    """Approve every pending sign-off of a request, each slot by a different reviewer."""

    def sign(request, *, skip_roles=()):
        for signoff in SignOff.objects.filter(request=request, status=SignOffStatus.PENDING).order_by("role", "slot"):
            if signoff.role in skip_roles:
                continue
            signer = reviewers[signoff.role][signoff.slot - 1]
            signoff_decide(actor=signer, signoff=signoff, decision="approve", reason="Looks right.")
        return fresh(request)

    return sign


@pytest.fixture
def request_gate(ml_engineer, eu, us):
    def make(version, *, actor=None, environment="production", regions=None, note="Please review."):
        return approval_request_create(
            actor=actor or ml_engineer,
            version=version,
            environment=environment,
            regions=regions if regions is not None else [eu, us],
            note=note,
        )

    return make


@pytest.fixture
def approved_request(record_evidence, request_gate, sign_all):
    """Evidence, a production request and every sign-off: an approved request for ``version``."""

    def make(version, **kwargs):
        record_evidence(version)
        request = sign_all(request_gate(version, **kwargs))
        assert request.status == RequestStatus.APPROVED
        return request

    return make


@pytest.fixture
def go_live(approved_request, product_owner):
    """Approve ``version`` and promote it in every region of the feature; returns the request."""

    def make(version):
        request = approved_request(version)
        promotion_execute(actor=product_owner, request=request)
        return request

    return make


def pending_signoff(request: ApprovalRequest, role: str, slot: int = 1) -> SignOff:
    return SignOff.objects.get(request=request, role=role, slot=slot)


@pytest.fixture
def releases(new_version, go_live):
    """Take ``count`` versions live one after the other; returns them in order."""

    def release(count):
        versions = []
        for number in range(1, count + 1):
            version = new_version(summary=f"Release {number}.")
            go_live(version)
            versions.append(version)
        return versions

    return release


def policy_post_data(policy, **changes):
    """What the policy form posts when nothing is touched, with ``changes`` applied."""
    from approvals.forms import GatePolicyForm

    form = GatePolicyForm(policy=policy)
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = value
    return {name: value for name, value in {**data, **changes}.items() if value is not None}
