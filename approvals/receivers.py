"""Reactions to registry events."""

from django.db import transaction
from django.dispatch import receiver

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest
from approvals.services import approval_request_recheck
from registry.signals import evaluation_recorded


@receiver(evaluation_recorded, dispatch_uid="approvals-recheck-on-new-evidence")
def recheck_requests_on_new_evidence(sender, evaluation, actor, **kwargs):
    """New evidence may complete a request whose sign-offs are all in: approve it once the evidence commits.

    After commit, in a transaction of its own: the evidence's transaction already holds the audit
    chain's lock, which must be the last lock any transaction takes (request rows come first).
    """
    waiting = list(
        ApprovalRequest.objects.filter(version_id=evaluation.version_id, status=RequestStatus.PENDING)
        .exclude(signoffs__status__in=[SignOffStatus.PENDING, SignOffStatus.REJECTED])
        .values_list("pk", flat=True)
    )
    for request_id in waiting:
        # The approval is the system's conclusion, not the act of whoever recorded the evidence.
        transaction.on_commit(
            lambda request_id=request_id: approval_request_recheck(request=ApprovalRequest(pk=request_id), actor=None)
        )
