"""Ordinary numbers must not break the audit chain: what is hashed is what the database gives back.

PostgreSQL's jsonb keeps numbers as decimals, so -0.0 comes back as 0.0 and a float of 1e16 or more such as
12345678901234567890.0 comes back as an integer. The trail hashes a canonical form that survives the trip,
and NaN or infinity (which no store keeps) never reach it.
"""

import math
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from registry.models import AuditEvent, FeatureVersion
from registry.services import audit_record, audit_verify, evaluation_record, version_create
from registry.services.audit import NotCanonical, canonical
from tests.registry.test_api import (  # noqa: F401 - fixtures
    EVALUATIONS,
    VERSIONS,
    as_user,
    catalog,
    eu_region,
    evaluation_payload,
    feature,
    version_payload,
)

AWKWARD = {"negative_zero": -0.0, "huge": 12345678901234567890.0, "exponent": 1e16, "tiny": 1e-7, "plain": 0.25}


def test_canonical_numbers_are_the_ones_the_database_gives_back():
    assert canonical(AWKWARD) == {
        "negative_zero": 0.0,
        "huge": 12345678901234567168,
        "exponent": 10**16,
        "tiny": 1e-7,
        "plain": 0.25,
    }
    assert math.copysign(1, canonical(-0.0)) == 1
    assert canonical(canonical(AWKWARD)) == canonical(AWKWARD)  # the verifier applies it again: no change


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_numbers_no_store_keeps_are_refused_by_the_trail(value):
    with pytest.raises(NotCanonical):
        canonical({"score": [value]})


@pytest.mark.postgres
def test_awkward_numbers_through_the_api_leave_the_chain_intact(feature, catalog, ml_engineer):  # noqa: F811 - fixtures
    client = as_user(ml_engineer)
    created = client.post(
        VERSIONS,
        version_payload(feature, catalog, parameters={"seed": 12345678901234567890.0, "bias": -0.0}),
        format="json",
    )
    assert created.status_code == 201, created.content
    version = FeatureVersion.objects.get(pk=created.json()["id"])
    recorded = client.post(
        EVALUATIONS, evaluation_payload(version, score=-0.0, threshold=1e16, higher_is_better=False), format="json"
    )
    assert recorded.status_code == 201, recorded.content

    result = audit_verify()

    assert result.ok, result.problems
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "intact" in out.getvalue()
    event = AuditEvent.objects.get(action="evaluation.recorded")
    assert event.payload["score"] == 0 and event.payload["threshold"] == 10**16


@pytest.mark.postgres
def test_awkward_numbers_through_the_services_leave_the_chain_intact(feature, catalog, ml_engineer):  # noqa: F811 - fixtures
    version = version_create(
        actor=ml_engineer,
        feature=feature,
        model=catalog["model"],
        prompt=catalog["prompt"],
        policy_pack=catalog["policy"],
        change_summary="First.",
        parameters={"seed": 12345678901234567890.0},
    )
    evaluation_record(
        actor=ml_engineer,
        version=version,
        kind="safety",
        suite="s",
        metric="m",
        score=-0.0,
        threshold=0.5,
        run_at=timezone.now() - timedelta(hours=1),
    )
    with transaction.atomic():
        audit_record(actor=ml_engineer, action="test.awkward", object_type="test", object_id=1, payload=AWKWARD)

    assert audit_verify().ok


def test_a_version_keeps_its_parameters_in_the_form_the_database_gives_back(feature, catalog, ml_engineer):  # noqa: F811 - fixtures
    """The configuration hash is computed from the parameters: it must not change on the way back."""
    version = version_create(
        actor=ml_engineer,
        feature=feature,
        model=catalog["model"],
        prompt=catalog["prompt"],
        policy_pack=catalog["policy"],
        change_summary="First.",
        parameters={"seed": 12345678901234567890.0, "bias": -0.0},
    )

    stored = FeatureVersion.objects.get(pk=version.pk).parameters
    assert stored == {"seed": 12345678901234567168, "bias": 0.0}
    assert isinstance(stored["seed"], int)


def test_an_evaluation_score_that_is_not_a_number_is_refused_with_a_clear_answer(feature, catalog, ml_engineer):  # noqa: F811 - fixtures
    version = version_create(
        actor=ml_engineer,
        feature=feature,
        model=catalog["model"],
        prompt=catalog["prompt"],
        policy_pack=catalog["policy"],
        change_summary="First.",
    )
    with pytest.raises(Exception) as refused:
        evaluation_record(
            actor=ml_engineer,
            version=version,
            kind="safety",
            suite="s",
            metric="m",
            score=math.nan,
            threshold=0.5,
            run_at=timezone.now() - timedelta(hours=1),
        )
    assert "finite" in str(refused.value)
    assert not AuditEvent.objects.filter(action="evaluation.recorded").exists()
