"""On PostgreSQL the database itself refuses to change or remove audit events, and the chain head only moves
forward (registry/migrations/0017_audit_append_only_triggers.py). The triggers bind every role; tests that
prove tampering is detected switch them off for their own session with the ``tamper`` fixture."""

import pytest
from django.db import DatabaseError, transaction

from registry.models import AuditChainHead, AuditEvent
from registry.services import audit_verify
from tests.registry.test_audit_chain import prompt_write

pytestmark = pytest.mark.postgres


@pytest.fixture
def two_events(ml_engineer):
    prompt_write(ml_engineer, name="alpha")
    prompt_write(ml_engineer, name="bravo")


@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEvent.objects.filter(sequence=1).update(payload={"forged": True}),
        lambda: AuditEvent.objects.filter(sequence=2).delete(),
        lambda: AuditChainHead.objects.filter(pk=1).update(last_sequence=1),
        lambda: AuditChainHead.objects.filter(pk=1).update(last_hash="f" * 64),
        lambda: AuditChainHead.objects.all().delete(),
    ],
    ids=["update-event", "delete-event", "head-back", "head-rehashed", "delete-head"],
)
def test_the_database_refuses_to_rewrite_the_trail(two_events, change):
    with pytest.raises(DatabaseError, match="audit"):
        with transaction.atomic():
            change()

    assert AuditEvent.objects.count() == 2
    assert audit_verify().ok


def test_appending_still_moves_the_head_forward(two_events, ml_engineer):
    prompt_write(ml_engineer, name="charlie")

    assert AuditChainHead.objects.get(pk=1).last_sequence == 3
    assert audit_verify().ok


def test_a_superuser_session_can_switch_them_off_to_prove_detection(two_events, tamper):
    AuditEvent.objects.filter(sequence=1).update(payload={"forged": True})

    assert audit_verify().broken_sequence == 1
