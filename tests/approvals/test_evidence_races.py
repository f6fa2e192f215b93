"""New evidence approving a waiting request must not deadlock with someone acting on that request at the
same moment. Needs PostgreSQL: SQLite has no row locks."""

import threading
import time

import pytest
from django.db import connection

import approvals.services
from approvals.choices import RequestStatus
from approvals.models import ApprovalRequest
from approvals.services import approval_request_withdraw
from registry.models import AuditEvent
from registry.services import audit_verify
from tests.approvals.conftest import fresh
from tests.approvals.test_promotion_concurrency import reload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_recording_the_missing_evidence_while_the_request_is_withdrawn_does_not_deadlock(
    monkeypatch, product_owner, ml_engineer, new_version, record_evidence, request_gate, sign_all
):
    version = new_version()
    record_evidence(version, kinds=["benchmark", "safety"])
    request = sign_all(request_gate(version))
    assert request.status == RequestStatus.PENDING  # every sign-off in; only the privacy review is missing

    # Timing only: the withdrawal pauses between locking the request row and writing its audit event, so the
    # evidence recording runs inside that window. The services' own code paths are unchanged.
    request_locked = threading.Event()
    real_audit_record = approvals.services.audit_record

    def audit_record_after_a_pause(**kwargs):
        if kwargs.get("action") == "approval.withdrawn":
            request_locked.set()
            time.sleep(1.0)
        return real_audit_record(**kwargs)

    monkeypatch.setattr(approvals.services, "audit_record", audit_record_after_a_pause)
    failures = []

    def withdraw():
        try:
            approval_request_withdraw(actor=reload(product_owner), request=request, reason="Superseded by v2.")
        except Exception as error:  # noqa: BLE001 - judged below
            failures.append(error)
        finally:
            connection.close()

    def record_privacy_review():
        try:
            assert request_locked.wait(timeout=10)
            record_evidence(version, kinds=["privacy_review"], actor=reload(ml_engineer))
        except Exception as error:  # noqa: BLE001 - judged below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw), threading.Thread(target=record_privacy_review)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    if failures:
        raise failures[0]  # PostgreSQL: OperationalError("deadlock detected") in the evidence recording
    assert fresh(request).status == RequestStatus.WITHDRAWN
    assert AuditEvent.objects.filter(action="evaluation.recorded", payload__kind="privacy_review").exists()
    assert ApprovalRequest.objects.filter(pk=request.pk).exists()
    assert audit_verify().ok
