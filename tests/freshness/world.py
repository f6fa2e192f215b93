"""The freshness test world: the shipped gates, and live versions made as plain rows (a submitted version, its
evaluations at chosen ages, the live pointers), so a sweep has something to judge. Tests that need real
promotions and rollbacks use the approvals world instead (``tests/approvals/conftest.py``).

Imported by the test modules (not a conftest: other files in this folder must not inherit these fixtures).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.defaults import install_default_policies
from approvals.models import GateAssignment, GatePolicy, GateRequirement
from freshness.models import FreshnessFinding, SweepLock
from registry.choices import VersionStatus
from registry.models import Deployment, Region
from tests.factories import (
    EvaluationFactory,
    FeatureFactory,
    RegionFactory,
    TeamFactory,
    UserFactory,
    VersionFactory,
)

# The production gate (low, medium and high risk) as shipped: kind -> max age in days.
PRODUCTION_RULES = {"benchmark": 90, "safety": 90, "privacy_review": 365}
SANDBOX_RULES = {"safety": 180}
REGULATED_RULES = {"benchmark": 90, "safety": 90, "privacy_review": 365, "red_team": 180, "regional_language": 180}

_serial = itertools.count(1)


def days_ago(days, *, hours=0):
    return timezone.now() - timedelta(days=days, hours=hours)


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


def open_findings(**filters):
    return FreshnessFinding.objects.filter(closed_at__isnull=True, **filters)


def states(version=None, environment="production"):
    """{evidence kind: state} of the open findings of a version (or of every version) in an environment."""
    findings = open_findings(environment=environment)
    if version is not None:
        findings = findings.filter(version=version)
    return {finding.evidence_kind: finding.state for finding in findings}


@pytest.fixture(autouse=True)
def default_gates(db):
    """The shipped gates and the sweep lock row (a transactional test flushes migration data)."""
    install_default_policies(GatePolicy, GateRequirement, GateAssignment)
    SweepLock.objects.get_or_create(pk=1)


def evidence(version, kind, *, age_days=1.0, score=0.92, threshold=0.8, recorded_by=None):
    """One evaluation of ``version`` run ``age_days`` ago (fractions allowed)."""
    return EvaluationFactory(
        version=version,
        kind=kind,
        suite=f"{kind}-suite",
        metric="score",
        score=score,
        threshold=threshold,
        run_at=timezone.now() - timedelta(days=age_days),
        recorded_by=recorded_by or version.author,
    )


class Live:
    """Makes features with live versions: ``live.version(...)`` returns a submitted version live where asked."""

    def __init__(self, *, team, product_owner):
        self.team = team
        self.product_owner = product_owner

    def feature(self, *, team=None, owner=None, incident_owner=None, risk_tier="high", **extra):
        n = next(_serial)
        owner = owner or self.product_owner
        return FeatureFactory(
            slug=extra.pop("slug", f"fresh-feature-{n}"),
            team=team or self.team,
            risk_tier=risk_tier,
            accountable_owner=owner,
            incident_owner=incident_owner or owner,
            regions=extra.pop("regions", None) or [RegionFactory(code="eu"), RegionFactory(code="us")],
            **extra,
        )

    def version(
        self, *, feature=None, environments=("production",), regions=("eu",), kinds=None, age_days=1.0, **feature_kwargs
    ):
        """A submitted version live in ``environments`` x ``regions``, with passing ``kinds`` evidence
        ``age_days`` old (default: every kind its production gate requires)."""
        feature = feature or self.feature(**feature_kwargs)
        number = (feature.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        version = submitted_version(feature, number)
        for kind in PRODUCTION_RULES if kinds is None else kinds:
            evidence(version, kind, age_days=age_days)
        for environment in environments:
            for code in regions:
                make_live(version, environment=environment, region=Region.objects.get(code=code))
        return version


def submitted_version(feature, number):
    return VersionFactory(
        feature=feature,
        number=number,
        status=VersionStatus.SUBMITTED,
        submitted_at=timezone.now() - timedelta(days=400),
        config_hash=f"{number:064x}",
    )


def make_live(version, *, environment="production", region):
    """Point ``version``'s feature at it in environment/region (a plain row, no history)."""
    Deployment.objects.update_or_create(
        feature=version.feature,
        environment=environment,
        region=region,
        defaults={"version": version, "updated_at": timezone.now(), "updated_by": version.author},
    )


@pytest.fixture
def live(team, product_owner, eu, us):
    return Live(team=team, product_owner=product_owner)


def crowd(n, *, prefix="crowd"):
    """``n`` features of their own team, owners and people, each with a version live in production/eu."""
    eu = RegionFactory(code="eu")
    versions = []
    for _ in range(n):
        i = next(_serial)
        team = TeamFactory(slug=f"{prefix}-team-{i}")
        UserFactory(username=f"{prefix}-member-{i}", teams=[team])
        owner = UserFactory(username=f"{prefix}-owner-{i}")
        feature = FeatureFactory(
            slug=f"{prefix}-{i}",
            team=team,
            risk_tier="medium",
            accountable_owner=owner,
            incident_owner=UserFactory(username=f"{prefix}-oncall-{i}"),
            regions=[eu],
        )
        version = submitted_version(feature, 1)
        make_live(version, region=eu)
        versions.append(version)
    return versions


def findings_grower(prefix="grow"):
    """A ``grow(n)`` for query-count tests: n more features of their own team, each live in production
    with one finding (stale and due soon by turns), then a sweep."""
    from freshness.services import freshness_sweep

    made = itertools.count()

    def grow(n):
        for _ in range(n):
            i = next(made)
            feature = FeatureFactory(
                slug=f"{prefix}-{i}",
                team=TeamFactory(slug=f"{prefix}-team-{i}"),
                risk_tier="medium",
                accountable_owner=UserFactory(username=f"{prefix}-owner-{i}"),
            )
            version = submitted_version(feature, 1)
            evidence(version, "benchmark")
            evidence(version, "safety")
            evidence(version, "privacy_review", age_days=500 if i % 2 else 360)  # stale or due soon
            make_live(version, region=feature.regions.first())
        freshness_sweep()

    return grow


def edit_gate(actor, gate, *, drop=(), rules=None, reason="Freshness test.", **settings):
    """Change a gate through ``gate_policy_update``, as the policy page does: drop evidence kinds, change
    evidence rules (``rules={kind: {"min_score": .., "max_age_days": ..}}``) or settings such as due_soon_days."""
    from approvals.services import gate_policy_update, requirements_snapshot

    policy = GatePolicy.objects.get(gate=gate)
    snapshot = requirements_snapshot(policy)
    requirements = [{"kind": "signoff", "role": s["role"], "count": s["count"]} for s in snapshot["signoffs"]]
    for rule in snapshot["evidence"]:
        if rule["kind"] in drop:
            continue
        changes = (rules or {}).get(rule["kind"], {})
        requirements.append(
            {
                "kind": "evidence",
                "evidence_kind": rule["kind"],
                "min_score": changes.get("min_score", rule["min_score"]),
                "max_age_days": changes.get("max_age_days", rule["max_age_days"]),
            }
        )
    for kind, changes in (rules or {}).items():
        if kind not in {rule["kind"] for rule in snapshot["evidence"]}:
            requirements.append({"kind": "evidence", "evidence_kind": kind, **changes})
    requirements += [{"kind": "readiness", "readiness_item": item} for item in snapshot["readiness"]]
    return gate_policy_update(
        actor=actor,
        policy=policy,
        reason=reason,
        requirements=requirements,
        review_sla_hours=settings.pop("review_sla_hours", policy.review_sla_hours),
        approval_valid_days=settings.pop("approval_valid_days", policy.approval_valid_days),
        description=policy.description,
        **settings,
    )


class Findings:
    """Findings of every kind across two teams and three tiers, after a sweep:

    - Claims triage (claims team, high): benchmark due soon (stale in 11 days), safety stale, privacy review
      missing; live in production eu and us.
    - Payment helper (payments team, medium): safety due soon (stale in 6 days), benchmark failing.
    - Fraud signals (claims team, restricted, regulated): red team missing.
    - Mail sorter (claims team, low): its stale benchmark was fixed; one closed finding.
    """

    def __init__(self, live, *, other_team, other_product_owner):
        self.claims_feature = live.feature(slug="claims-triage", name="Claims triage", risk_tier="high")
        self.claims = live.version(feature=self.claims_feature, kinds=(), regions=("eu", "us"))
        evidence(self.claims, "benchmark", age_days=80)
        evidence(self.claims, "safety", age_days=100)

        self.payments_feature = live.feature(
            slug="payment-helper", name="Payment helper", risk_tier="medium", team=other_team, owner=other_product_owner
        )
        self.payments = live.version(feature=self.payments_feature, kinds=("privacy_review",))
        evidence(self.payments, "safety", age_days=85)
        evidence(self.payments, "benchmark", score=0.5)

        self.fraud_feature = live.feature(
            slug="fraud-signals", name="Fraud signals", risk_tier="regulated", restricted=True
        )
        self.fraud = live.version(
            feature=self.fraud_feature, kinds=("benchmark", "safety", "privacy_review", "regional_language")
        )

        self.mail_feature = live.feature(slug="mail-sorter", name="Mail sorter", risk_tier="low")
        self.mail = live.version(feature=self.mail_feature, kinds=("safety", "privacy_review"))
        evidence(self.mail, "benchmark", age_days=100)

        from freshness.services import freshness_sweep

        freshness_sweep()
        evidence(self.mail, "benchmark", age_days=0.01)
        freshness_sweep()

    def finding(self, version, kind):
        return FreshnessFinding.objects.get(version=version, evidence_kind=kind)

    @property
    def open_order(self):
        """(feature slug, kind) of the open findings as the dashboard lists them: due soon first, soonest first."""
        return [
            ("payment-helper", "safety"),
            ("claims-triage", "benchmark"),  # due soon
            ("claims-triage", "safety"),  # stale
            ("payment-helper", "benchmark"),  # failing
            ("claims-triage", "privacy_review"),
            ("fraud-signals", "red_team"),  # missing
        ]


@pytest.fixture
def findings(live, other_team, other_product_owner):
    return Findings(live, other_team=other_team, other_product_owner=other_product_owner)
