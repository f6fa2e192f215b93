"""Governance's dashboard counts pending sign-offs by role, age and review SLA in the database (two queries
however many there are): the same figures as judging each sign-off, whatever SLA a request's gate set
(hours, none, empty), and none of a restricted feature the viewer may not see."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalRequest, SignOff
from approvals.panels import AGES, DEFAULT_SLA_HOURS, _pending_signoffs, pending_by_role
from tests.factories import FeatureFactory, VersionFactory

pytestmark = pytest.mark.django_db


def _judged_one_by_one(user, now):
    """What the panel counted before: each pending sign-off read and judged in Python."""
    roles = {}
    for role, created_at, sla_hours in _pending_signoffs(user).values_list(
        "role", "created_at", "request__requirements__review_sla_hours"
    ):
        entry = roles.setdefault(role, {"ages": [0] * len(AGES), "total": 0, "breached": 0})
        age_days = (now - created_at).total_seconds() / 86400
        for index, (_label, low, high) in enumerate(AGES):
            if age_days >= low and (high is None or age_days < high):
                entry["ages"][index] += 1
        entry["total"] += 1
        hours = int(sla_hours) if sla_hours not in (None, "") else DEFAULT_SLA_HOURS
        entry["breached"] += created_at + timedelta(hours=hours) < now
    return roles


@pytest.fixture
def many_pending(feature, new_version, record_evidence, request_gate, other_team):
    version = new_version()
    record_evidence(version)
    first = request_gate(version)
    hidden = VersionFactory(feature=FeatureFactory(team=other_team, restricted=True))
    variants = [{"review_sla_hours": 24}, {"review_sla_hours": 72}, {}, {"review_sla_hours": None}]
    variants += [{"review_sla_hours": ""}, {"review_sla_hours": "12"}]
    requests = [first]
    for number, requirements in enumerate(variants):
        request = ApprovalRequest.objects.create(
            version=hidden if number == 0 else VersionFactory(feature=feature),
            gate=first.gate,
            environment=first.environment,
            requester=first.requester,
            requirements={**first.requirements, **requirements} if requirements else {},
        )
        for role in ("security", "legal", "ml"):
            SignOff.objects.create(request=request, role=role)
        requests.append(request)
    now = timezone.now()
    ages = [timedelta(hours=2), timedelta(hours=20), timedelta(days=2), timedelta(days=5), timedelta(days=9)]
    for index, signoff in enumerate(SignOff.objects.filter(request__in=requests).order_by("pk")):
        SignOff.objects.filter(pk=signoff.pk).update(created_at=now - ages[index % len(ages)])
    return requests


def test_the_counts_are_those_of_each_sign_off_judged_alone(many_pending, governance_admin, django_assert_num_queries):
    now = timezone.now()
    expected = _judged_one_by_one(governance_admin, now)
    assert sum(entry["total"] for entry in expected.values()) >= 18 and any(
        entry["breached"] for entry in expected.values()
    )

    with django_assert_num_queries(2):
        found = pending_by_role(governance_admin, now)

    assert found == expected


def test_a_restricted_feature_leaves_no_trace_in_the_counts(many_pending, product_owner):
    now = timezone.now()
    found = pending_by_role(product_owner, now)

    assert found == _judged_one_by_one(product_owner, now)
    hidden = many_pending[1]  # on the other team's restricted feature
    assert (
        sum(entry["total"] for entry in found.values())
        == SignOff.objects.filter(status="pending", request__status="pending").exclude(request=hidden).count()
    )
