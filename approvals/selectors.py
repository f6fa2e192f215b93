"""Reads of the approvals app, restricted to what the user may see, with their related rows loaded."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, GatePolicy, SignOff
from registry.models import AuditEvent
from registry.permissions import user_roles
from registry.selectors import features_visible_to, users_who_see


def requests_visible_to(user) -> QuerySet[ApprovalRequest]:
    """Requests on features the user may see, and no others: holding a role a request needs does not open a
    restricted feature (governance brings a reviewer in with a reviewer grant)."""
    return (
        ApprovalRequest.objects.filter(version__feature__in=features_visible_to(user))
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
    """Pending sign-offs the user may sign, oldest first: a role they hold, on a feature they may see, on a
    request they neither wrote, submitted nor requested, and have not signed yet (separation of duties,
    as ``approvals.permissions.signoff_refusal`` says it)."""
    roles = user_roles(user)
    if not roles:
        return SignOff.objects.none()
    already_signed = SignOff.objects.filter(request=OuterRef("request"), signer=user)
    return (
        SignOff.objects.filter(
            status=SignOffStatus.PENDING,
            role__in=roles,
            request__status=RequestStatus.PENDING,
            request__version__feature__in=features_visible_to(user),
        )
        .exclude(Q(request__version__author=user) | Q(request__version__submitted_by=user) | Q(request__requester=user))
        .exclude(Exists(already_signed))
        .select_related(
            "request", "request__version", "request__version__feature", "request__version__feature__team",
            "request__version__feature__incident_owner", "request__requester", "request__version__author",
        )
        .order_by("created_at", "id")
    )


def queue_count(user) -> int:
    return queue_for(user).count()


def eligible_signers(request: ApprovalRequest, *, roles=None) -> dict[str, list]:
    """Who may still sign each role of ``request``: active holders of the role who may see the feature, did
    not write, submit or request it, and have not signed another of its roles. ``{role: [users]}`` for the
    roles asked (default: every role of a pending slot). One query (with the request's sign-offs loaded)."""
    version = request.version
    signoffs = list(request.signoffs.all())
    if roles is None:
        roles = {signoff.role for signoff in signoffs if signoff.status == SignOffStatus.PENDING}
    roles = set(roles)
    if not roles:
        return {}
    excluded = {version.author_id, version.submitted_by_id, request.requester_id}
    excluded |= {signoff.signer_id for signoff in signoffs}
    found: dict[str, list] = {role: [] for role in roles}
    users = (
        users_who_see(version.feature).filter(groups__name__in=roles).exclude(pk__in=[pk for pk in excluded if pk])
        .annotate(held_role=F("groups__name")).order_by("username")
    )
    for user in users:  # a row per (person, role held)
        found[user.held_role].append(user)
    return found


def unstaffed_roles(request: ApprovalRequest, *, signers: dict[str, list] | None = None) -> list[str]:
    """Roles with more open slots than people who may still sign them: the request cannot pass until
    governance grants a reviewer (or someone joins the team or role). Pass ``signers`` (from
    ``eligible_signers``) when it is at hand."""
    open_slots: dict[str, int] = {}
    for signoff in request.signoffs.all():
        if signoff.status == SignOffStatus.PENDING:
            open_slots[signoff.role] = open_slots.get(signoff.role, 0) + 1
    if signers is None:
        signers = eligible_signers(request, roles=open_slots)
    return sorted(role for role, count in open_slots.items() if len(signers.get(role, [])) < count)


def request_history(*, request: ApprovalRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type="approvalrequest", object_id=str(request.pk)).order_by("sequence")


def gate_policies() -> QuerySet[GatePolicy]:
    return GatePolicy.objects.prefetch_related("requirements").order_by("gate")
