"""Reactions to registry events."""

from django.dispatch import receiver

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest
from approvals.services import approval_request_recheck
from registry.signals import evaluation_recorded


@receiver(evaluation_recorded, dispatch_uid="approvals-recheck-on-new-evidence")
def recheck_requests_on_new_evidence(sender, evaluation, actor, **kwargs):
    """New evidence may complete a request whose sign-offs are all in: approve it in the same transaction."""
    waiting = (
        ApprovalRequest.objects.filter(version_id=evaluation.version_id, status=RequestStatus.PENDING)
        .exclude(signoffs__status__in=[SignOffStatus.PENDING, SignOffStatus.REJECTED])
    )
    for request in waiting:
        approval_request_recheck(request=request, actor=actor)
