"""Reads of the approvals app, restricted to what the user may see, with their related rows loaded."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, GatePolicy, SignOff
from registry.models import AuditEvent
from registry.permissions import user_roles
from registry.selectors import features_visible_to


def requests_visible_to(user) -> QuerySet[ApprovalRequest]:
    """Requests on features the user may see, and requests that need a sign-off from a role they hold.

    The second kind is how reviewers read what they sign on a restricted feature: they see the request
    (its configuration, evidence and history), not the feature's other pages.
    """
    needs_my_role = Exists(SignOff.objects.filter(request=OuterRef("pk"), role__in=user_roles(user)))
    return (
        ApprovalRequest.objects.filter(Q(version__feature__in=features_visible_to(user)) | needs_my_role)
        .select_related("version", "version__feature", "version__feature__team", "version__author", "requester")
        .prefetch_related("regions")
        .order_by("-created_at", "-id")
    )


def request_detail(*, user, pk: int) -> ApprovalRequest:
    return (
        requests_visible_to(user)
        .select_related("version__model__vendor", "version__prompt", "version__policy_pack", "version__parent",
                        "version__feature__accountable_owner", "version__feature__incident_owner")
        .prefetch_related("signoffs__signer")
        .get(pk=pk)
    )


def queue_for(user) -> QuerySet[SignOff]:
    """Pending sign-offs for the roles the user holds, oldest first, on features they may see."""
    roles = user_roles(user)
    if not roles:
        return SignOff.objects.none()
    return (
        SignOff.objects.filter(
            status=SignOffStatus.PENDING,
            role__in=roles,
            request__status=RequestStatus.PENDING,
        )
        .select_related(
            "request", "request__version", "request__version__feature", "request__version__feature__team",
            "request__version__feature__incident_owner", "request__requester", "request__version__author",
        )
        .order_by("created_at", "id")
    )


def queue_count(user) -> int:
    return queue_for(user).count()


def request_history(*, request: ApprovalRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type="approvalrequest", object_id=str(request.pk)).order_by("sequence")


def gate_policies() -> QuerySet[GatePolicy]:
    return GatePolicy.objects.prefetch_related("requirements").order_by("gate")
