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


def request_states(requests) -> dict[int, dict]:
    """For each request (with ``signoffs`` prefetched): its requirements as checked now (met or not, and
    why, as the review page shows them), and for each pending sign-off of a pending request the
    usernames of who may still sign it (active holders of the role whom separation of duties lets
    sign). A constant number of queries, whatever the number of requests."""
    from django.contrib.auth import get_user_model

    from approvals.checks import all_checks, latest_evaluations
    from approvals.permissions import signoff_refusal
    from registry.choices import Role

    requests = list(requests)
    newest = latest_evaluations([request.version_id for request in requests])
    open_signoffs = [
        signoff for request in requests if request.status == RequestStatus.PENDING
        for signoff in request.signoffs.all() if signoff.status == SignOffStatus.PENDING
    ]
    roles = {signoff.role for signoff in open_signoffs}
    members: dict[str, list] = {role: [] for role in roles}
    if roles:
        # Every role of each active holder of a role wanted here, in one query.
        User = get_user_model()
        holdings = (
            User.groups.through.objects.filter(
                group__name__in=Role.values, user__is_active=True,
                user__in=User.objects.filter(groups__name__in=roles),
            )
            .select_related("user", "group")
            .order_by("user__username", "group__name")
        )
        users: dict[int, object] = {}
        for holding in holdings:
            user = users.setdefault(holding.user_id, holding.user)
            user._gatehouse_roles = getattr(user, "_gatehouse_roles", frozenset()) | {holding.group.name}
        for user in users.values():
            for role in sorted(user._gatehouse_roles & roles):
                members[role].append(user)
    states = {}
    for request in requests:
        signed_roles = {signoff.signer_id: signoff.role for signoff in request.signoffs.all() if signoff.signer_id}
        eligible = {}
        if request.status == RequestStatus.PENDING:
            for signoff in request.signoffs.all():
                if signoff.status == SignOffStatus.PENDING:
                    eligible[signoff.pk] = [
                        user.username for user in members[signoff.role]
                        if not signoff_refusal(user, signoff, signed_roles=signed_roles)
                    ]
        states[request.pk] = {
            "checks": all_checks(request.requirements, request.version.feature, newest.get(request.version_id, {})),
            "eligible": eligible,
        }
    return states
