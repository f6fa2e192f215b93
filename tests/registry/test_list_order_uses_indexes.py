"""A list's sort ends as its index is ordered, so the database reads a page along the index instead of
sorting every row: no NULLS LAST on a column that is never null, no primary key after a unique column."""

import pytest

from approvals.filters import ApprovalRequestFilter
from approvals.models import ApprovalRequest
from registry.filters import AuditEventFilter, FeatureFilter
from registry.models import AIFeature, AuditEvent

pytestmark = pytest.mark.django_db


def order_by(filterset, params=None):
    sql = str(filterset(params or {}, queryset=filterset._meta.model.objects.all()).qs.query)
    return sql.split(" ORDER BY ", 1)[1]


def test_the_audit_trail_sorts_by_its_unique_sequence_alone():
    assert order_by(AuditEventFilter) == '"registry_auditevent"."sequence" DESC'
    assert order_by(AuditEventFilter, {"ordering": "sequence"}) == '"registry_auditevent"."sequence" ASC'
    # A column that is not unique still ends with the primary key, so that pages never overlap.
    assert order_by(AuditEventFilter, {"ordering": "who"}).endswith('"registry_auditevent"."id" ASC')


def test_gate_requests_sort_newest_first_as_their_index_is_ordered():
    assert order_by(ApprovalRequestFilter) == (
        '"approvals_approvalrequest"."created_at" DESC, "approvals_approvalrequest"."id" DESC'
    )
    index = next(index for index in ApprovalRequest._meta.indexes if index.name == "approvalrequest_newest_first")
    assert index.fields == ["-created_at", "-id"]


def test_a_column_that_may_be_empty_still_sorts_its_empty_values_last():
    from core.filters import _never_null

    assert not _never_null(AuditEvent, "feature__name")  # system events name no feature
    assert not _never_null(AuditEvent, "actor__username")
    assert _never_null(AuditEvent, "action") and _never_null(AIFeature, "accountable_owner__first_name")
    assert "NULLS LAST" not in order_by(FeatureFilter, {"ordering": "owner"})


def test_the_trails_filter_choices_read_each_distinct_value_along_its_index(governance_admin):
    from registry.filters import distinct_values
    from registry.services.audit import audit_record

    for action, kind in (("note.added", "note"), ("note.added", "memo"), ("alpha.done", "note")):
        audit_record(actor=governance_admin, action=action, object_type=kind, object_id=1)
    for field in ("action", "object_type", "actor_name"):
        expected = list(AuditEvent.objects.order_by(field).values_list(field, flat=True).distinct())
        assert distinct_values(AuditEvent, field) == expected and len(expected) >= 1
    assert {"note.added", "alpha.done"} <= set(distinct_values(AuditEvent, "action"))
