"""Reads of the approvals app, restricted to what the user may see, with their related rows loaded."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, SignOff
from core.kept import kept_many
from registry.models import AuditEvent, Deployment
from registry.permissions import user_roles
from registry.selectors import audit_trail_position, features_visible_to, seers_of_restricted


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
        .select_related(
            "version__model__vendor",
            "version__prompt",
            "version__policy_pack",
            "version__parent",
            "version__feature__accountable_owner",
            "version__feature__incident_owner",
        )
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
            "request",
            "request__version",
            "request__version__feature",
            "request__version__feature__team",
            "request__version__feature__incident_owner",
            "request__requester",
            "request__version__author",
        )
        .order_by("created_at", "id")
    )


def signoffs_visible_to(user) -> QuerySet[SignOff]:
    """Sign-offs of the requests the user may see, with their signer."""
    return SignOff.objects.filter(request__in=requests_visible_to(user)).select_related("signer")


def signoff_detail(*, user, pk: int) -> SignOff:
    """One sign-off of a request the user may see, with its request; raises ``SignOff.DoesNotExist`` otherwise."""
    return SignOff.objects.select_related("request").get(pk=pk, request__in=requests_visible_to(user))


def signed_roles(request_ids) -> dict[int, dict[int, str]]:
    """``{request id: {signer id: role signed}}`` for the requests ``request_ids``, in one query."""
    signed: dict[int, dict[int, str]] = {}
    for request_id, signer_id, role in SignOff.objects.filter(
        request_id__in=list(request_ids), signer__isnull=False
    ).values_list("request_id", "signer_id", "role"):
        signed.setdefault(request_id, {})[signer_id] = role
    return signed


def live_for_request(request: ApprovalRequest, *, regions) -> QuerySet[Deployment]:
    """What serves the request's feature now in its environment and ``regions`` (its regions), by region."""
    return (
        Deployment.objects.filter(feature=request.version.feature, environment=request.environment, region__in=regions)
        .select_related("version", "region")
        .order_by("region__code")
    )


def queue_count(user) -> int:
    return queue_for(user).count()


def signers_for(requests) -> dict[int, dict[str, list]]:
    """Who may still sign each role of each pending request's open slots: ``{request id: {role: [users]}}``.

    One rule for queues, notices, reminders, the review page and the API: active holders of the role who may
    see the feature and whom separation of duties lets sign (``approvals.permissions.signoff_refusal``).
    Requests need ``signoffs`` loaded (else a query each); the rest costs two queries, and four more when a
    restricted feature is among them, whatever the number of requests."""
    from django.contrib.auth import get_user_model

    from approvals.permissions import signoff_refusal
    from registry.choices import Role

    pending = [request for request in requests if request.status == RequestStatus.PENDING]
    open_slots = {
        request.pk: {
            signoff.role: signoff for signoff in request.signoffs.all() if signoff.status == SignOffStatus.PENDING
        }
        for request in pending
    }
    roles = {role for slots in open_slots.values() for role in slots}
    holders: dict[str, list] = {role: [] for role in roles}
    if roles:
        # Every role of each active holder of a role wanted here, as pairs of ids and names, then each holder
        # once (a row per holding would build a user and a group for each); the roles are kept as the user's
        # role cache, so signoff_refusal asks nothing more.
        User = get_user_model()
        wanted = User.groups.through.objects.filter(group__name__in=roles).values("user_id")  # who holds one
        held: dict[int, set[str]] = {}
        for user_id, role in User.groups.through.objects.filter(
            group__name__in=Role.values, user__is_active=True, user_id__in=wanted
        ).values_list("user_id", "group__name"):
            held.setdefault(user_id, set()).add(role)
        for user in User.objects.filter(is_active=True, pk__in=wanted).order_by("username"):
            user._gatehouse_roles = frozenset(held[user.pk])
            for role in sorted(user._gatehouse_roles & roles):
                holders[role].append(user)
    seers = seers_of_restricted({request.version.feature for request in pending}) if roles else {}
    found = {}
    for request in pending:
        signed_roles = {signoff.signer_id: signoff.role for signoff in request.signoffs.all() if signoff.signer_id}
        allowed = seers.get(request.version.feature_id)  # None: an open feature, seen by all
        found[request.pk] = {
            role: [
                user
                for user in holders[role]
                if (allowed is None or user.pk in allowed)
                and not signoff_refusal(user, signoff, signed_roles=signed_roles)
            ]
            for role, signoff in open_slots[request.pk].items()
        }
    return found


def eligible_signers(request: ApprovalRequest) -> dict[str, list]:
    """``signers_for`` one request: ``{role: [users]}`` for its open slots (empty unless pending)."""
    return signers_for([request]).get(request.pk, {})


def unstaffed_roles(request: ApprovalRequest, *, signers: dict[str, list] | None = None) -> list[str]:
    """Roles with more open slots than people who may still sign them: the request cannot pass until
    governance grants a reviewer (or someone joins the team or role). Pass ``signers`` (from
    ``eligible_signers``) when it is at hand. A decided request has none."""
    if request.status != RequestStatus.PENDING:
        return []
    open_slots: dict[str, int] = {}
    for signoff in request.signoffs.all():
        if signoff.status == SignOffStatus.PENDING:
            open_slots[signoff.role] = open_slots.get(signoff.role, 0) + 1
    if signers is None:
        signers = eligible_signers(request)
    return sorted(role for role, count in open_slots.items() if len(signers.get(role, [])) < count)


def roles_in_words(roles) -> str:
    """``["legal", "ml"]`` → "Legal reviewer and ML engineer": the roles' labels, as a sentence would list them."""
    from registry.choices import Role

    labels = [str(Role(role).label) for role in roles]
    if len(labels) < 2:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def request_history(*, request: ApprovalRequest) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type="approvalrequest", object_id=str(request.pk)).order_by("sequence")


def gate_policies() -> QuerySet[GatePolicy]:
    return GatePolicy.objects.prefetch_related("requirements").order_by("gate")


def gate_assignments() -> dict[tuple[str, str], str]:
    """``{(risk tier, environment): gate}``: which gate each tier needs in each environment."""
    return {(a.risk_tier, a.environment): a.gate for a in GateAssignment.objects.all()}


# Where the usernames of who may still sign a request's sign-offs are kept: the trail's position (any change
# through the services moves it: a sign-off, a role or reviewer grant, a member added or removed, a feature
# restricted, an account deactivated, in the admin too) and the request. Signing checks again whatever a
# list said; the bound is for a change made behind the services.
ELIGIBLE_KEY = "approvals:eligible:{trail}:{request}"
ELIGIBLE_SECONDS = 300


def eligible_usernames(requests) -> dict[int, dict[int, list[str]]]:
    """For each pending request (with ``signoffs`` prefetched), ``{pending sign-off id: usernames}`` of who
    may still sign it (``signers_for``), kept in the shared cache until the trail moves: on a large
    organisation that is every holder of the role, read and judged for each answer otherwise. One round
    trip to the shared cache and a query for the trail's position; ``signers_for``'s queries for the
    requests it did not hold."""
    pending = {request.pk: request for request in requests if request.status == RequestStatus.PENDING}
    if not pending:
        return {}
    trail = audit_trail_position()
    keys = {pk: ELIGIBLE_KEY.format(trail=trail, request=pk) if trail is not None else None for pk in pending}

    def compute(missing: list[int]):
        signers = signers_for([pending[pk] for pk in missing])
        usernames = {
            pk: {
                signoff.pk: [user.username for user in signers[pk][signoff.role]]
                for signoff in pending[pk].signoffs.all()
                if signoff.status == SignOffStatus.PENDING and signoff.role in signers[pk]
            }
            for pk in missing
        }
        return usernames, ELIGIBLE_SECONDS

    return kept_many(keys, compute)


def request_states(requests) -> dict[int, dict]:
    """For each request (with ``signoffs`` prefetched): its requirements as checked now (met or not, and
    why, as the review page shows them), and for each pending sign-off of a pending request the
    usernames of who may still sign it (``eligible_usernames``). A constant number of queries, whatever the
    number of requests."""
    from approvals.checks import all_checks, latest_evaluations
    from approvals.extensions import features_with_gate_checks

    requests = list(requests)
    newest = latest_evaluations([request.version_id for request in requests])
    # The checks the apps above add (a high-risk feature's technical file), for the requests they concern.
    concerned = features_with_gate_checks({request.version.feature_id for request in requests}) if requests else set()
    eligible = eligible_usernames(requests)
    states = {}
    for request in requests:
        states[request.pk] = {
            "checks": all_checks(
                request.requirements,
                request.version.feature,
                newest.get(request.version_id, {}),
                **(
                    {"version": request.version, "environment": request.environment}
                    if request.version.feature_id in concerned
                    else {}
                ),
            ),
            "eligible": eligible.get(request.pk, {}),
        }
    return states
