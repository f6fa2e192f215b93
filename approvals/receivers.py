"""Reactions to registry events."""

from django.db import transaction
from django.dispatch import receiver

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest
from approvals.services import approval_request_recheck
from registry.signals import evaluation_recorded, feature_updated


def _recheck_after_commit(requests) -> None:
    """Requests whose sign-offs are all in may now hold: approve them once the change commits.

    After commit, in a transaction of its own: the changing transaction already holds the audit
    chain's lock, which must be the last lock any transaction takes (request rows come first).
    """
    waiting = list(
        requests.filter(status=RequestStatus.PENDING)
        .exclude(signoffs__status__in=[SignOffStatus.PENDING, SignOffStatus.REJECTED])
        .values_list("pk", flat=True)
    )
    for request_id in waiting:
        # The approval is the system's conclusion, not the act of whoever recorded the evidence.
        transaction.on_commit(
            lambda request_id=request_id: approval_request_recheck(request=ApprovalRequest(pk=request_id), actor=None)
        )


@receiver(evaluation_recorded, dispatch_uid="approvals-recheck-on-new-evidence")
def recheck_requests_on_new_evidence(sender, evaluation, actor, **kwargs):
    """New evidence may complete a request."""
    _recheck_after_commit(ApprovalRequest.objects.filter(version_id=evaluation.version_id))


@receiver(feature_updated, dispatch_uid="approvals-recheck-on-readiness")
def recheck_requests_on_feature_change(sender, feature, actor, **kwargs):
    """A rollback path, monitor or SLOs written down may complete a request waiting on readiness."""
    _recheck_after_commit(ApprovalRequest.objects.filter(version__feature=feature))
