"""Concurrent writers still leave one unbroken audit chain, and concurrent drafts of one feature still get
distinct version numbers. Needs PostgreSQL: SQLite serialises writers and has no row locks."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from registry.models import AuditEvent, Evaluation, FeatureVersion, PromptVersion
from registry.services import audit_verify, evaluation_record, prompt_version_create, version_create
from tests.concurrency import run_at_once as shared_run_at_once
from tests.factories import (
    CatalogModelFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    VersionFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10
WRITES_PER_THREAD = 3


def run_at_once(count, work):
    """Run ``work(index)`` in ``count`` threads released together; re-raise the first failure."""
    for outcome in shared_run_at_once(count, work, name="writer"):
        if isinstance(outcome, BaseException):
            raise outcome


def reload(user):
    return get_user_model().objects.get(pk=user.pk)


def assert_chain_is_whole(expected_events):
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, expected_events + 1))
    result = audit_verify()
    assert result.ok, result.message
    assert result.checked == expected_events


def test_concurrent_evidence_on_one_version_leaves_a_whole_chain(ml_engineer, team):
    version = VersionFactory(feature=FeatureFactory(slug="claims-triage", team=team), number=1)

    def record_evidence(index):
        actor = reload(ml_engineer)
        target = FeatureVersion.objects.get(pk=version.pk)
        for attempt in range(WRITES_PER_THREAD):
            evaluation_record(
                actor=actor,
                version=target,
                kind="benchmark",
                suite=f"suite-{index}",
                metric=f"m{attempt}",
                score=0.9,
                threshold=0.8,
                run_at=timezone.now() - timedelta(minutes=1),
            )

    run_at_once(THREADS, record_evidence)

    assert Evaluation.objects.filter(version=version).count() == THREADS * WRITES_PER_THREAD
    assert_chain_is_whole(THREADS * WRITES_PER_THREAD)


def test_concurrent_catalog_writes_leave_a_whole_chain(ml_engineer):
    def add_prompts(index):
        actor = reload(ml_engineer)
        for attempt in range(WRITES_PER_THREAD):
            prompt_version_create(actor=actor, name=f"prompt-{index}-{attempt}", template=f"Prompt {index}.{attempt}")

    run_at_once(THREADS, add_prompts)

    assert PromptVersion.objects.count() == THREADS * WRITES_PER_THREAD
    assert_chain_is_whole(THREADS * WRITES_PER_THREAD)


def test_concurrent_drafts_of_one_feature_get_distinct_numbers(ml_engineer, team):
    feature = FeatureFactory(slug="claims-triage", team=team)
    pins = {"model": CatalogModelFactory(), "prompt": PromptVersionFactory(), "policy_pack": PolicyPackFactory()}

    def draft(index):
        version_create(actor=reload(ml_engineer), feature=feature, change_summary=f"Draft {index}.", **pins)

    run_at_once(THREADS, draft)

    versions = list(feature.versions.order_by("number").values_list("number", "parent__number"))
    assert versions == [(number, number - 1 if number > 1 else None) for number in range(1, THREADS + 1)]
    assert_chain_is_whole(THREADS)
