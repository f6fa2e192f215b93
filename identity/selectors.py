"""Reads of people, teams and roles for the People, Teams and Account pages and their API, and of
deactivated people whose work still names them (governance's dashboard).

Who holds what, and through which source: a person is in a role's or a team's Django group (what
permissions read), and each ``Membership`` row says which source holds them there (granted in
Gatehouse, the identity provider's mapping, SCIM) with its reason. A group membership with no such row
was made before sources were recorded; it counts as granted in Gatehouse, as the services treat it.

Lists cost a constant number of queries whatever the number of people: counts are subqueries, roles,
teams and memberships are prefetched once per page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from incidents.choices import ACTIVE_STATUSES
from incidents.models import Incident
from registry.choices import FeatureStatus, MembershipSource, Role
from registry.models import AIFeature, ApiToken, AuditEvent, Membership, Team, UserSession
from registry.selectors import features_visible_to
from registry.services.system import SYSTEM_USERNAME

# --- What a person holds, and why --------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One reason a person holds a role or a team."""

    source: str
    reason: str = ""
    granted_by: object = None
    granted_at: datetime | None = None
    recorded: bool = True  # False: the membership predates sources; it counts as granted in Gatehouse

    @property
    def label(self) -> str:
        return MembershipSource(self.source).label

    @property
    def short(self) -> str:
        return {"manual": "Gatehouse", "idp": "IdP", "scim": "SCIM"}[self.source]


@dataclass
class Holding:
    """A role or a team a person is in, with every source that holds them there."""

    kind: str  # "role" or "team"
    key: str  # the role's value, or the team's slug
    label: str
    team: Team | None = None
    sources: list[Source] = field(default_factory=list)

    @property
    def source_values(self) -> list[str]:
        return [source.source for source in self.sources]

    @property
    def only_outside(self) -> bool:
        """Held only through the identity provider or SCIM: a manual revoke here is undone at their next sync."""
        return bool(self.sources) and MembershipSource.MANUAL not in self.source_values


def _sources(memberships, group_id: int) -> list[Source]:
    rows = [row for row in memberships if row.group_id == group_id]
    if not rows:
        return [Source(MembershipSource.MANUAL, recorded=False)]
    order = list(MembershipSource.values)
    return [
        Source(row.source, row.reason, row.granted_by, row.granted_at)
        for row in sorted(rows, key=lambda row: order.index(row.source))
    ]


def holdings_of(person) -> tuple[list[Holding], list[Holding]]:
    """(roles, teams) ``person`` holds, each with its sources. Reads the prefetches ``people()`` makes."""
    memberships = list(person.memberships.all())
    roles, teams = [], []
    role_order = list(Role.values)
    for group in person.groups.all():
        if group.name in Role.values:
            roles.append(Holding("role", group.name, Role(group.name).label, sources=_sources(memberships, group.pk)))
        else:
            team = getattr(group, "team", None)
            if team is not None:
                teams.append(Holding("team", team.slug, team.name, team, _sources(memberships, group.pk)))
    roles.sort(key=lambda holding: role_order.index(holding.key))
    teams.sort(key=lambda holding: holding.label.lower())
    return roles, teams


def _count(queryset) -> Coalesce:
    """A per-person count as a subquery: one query for the whole page, however many rows it counts."""
    counted = queryset.order_by().values("user").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _live_session_records():
    """Recorded sessions still alive: with the database store, those whose session has not expired."""
    records = UserSession.objects.filter(user=OuterRef("pk"))
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        from django.contrib.sessions.models import Session

        alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
        records = records.filter(session_key__in=alive)
    return records


def _active_tokens():
    now = timezone.now()
    return ApiToken.objects.filter(user=OuterRef("pk"), revoked_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def _held_groups() -> QuerySet[Group]:
    return Group.objects.filter(Q(name__in=Role.values) | Q(team__isnull=False)).select_related("team")


def people() -> QuerySet:
    """Everyone, active or not, by username, with what the People pages show of each. Gatehouse's own
    account (an inactive stand-in for system actions, never a person) is left out."""
    return (
        get_user_model()
        .objects.exclude(username=SYSTEM_USERNAME)
        .annotate(live_sessions=_count(_live_session_records()), active_tokens=_count(_active_tokens()))
        .prefetch_related(
            Prefetch("groups", queryset=_held_groups()),
            Prefetch("memberships", queryset=Membership.objects.select_related("granted_by")),
        )
        .order_by("username")
    )


def person(username: str):
    """One person by username; raises ``DoesNotExist`` for an unknown one."""
    return people().get(username=username)


def person_suggestions(*, typed: str, limit: int = 20, exclude_group: Group | None = None) -> list[tuple[str, str]]:
    """``(username, label)`` of at most ``limit`` active people whose username, name or email contains
    ``typed``: whom the add-member box suggests (those already in ``exclude_group`` left out)."""
    found = get_user_model().objects.filter(is_active=True)
    if typed:
        found = found.filter(
            Q(username__icontains=typed)
            | Q(first_name__icontains=typed)
            | Q(last_name__icontains=typed)
            | Q(email__icontains=typed)
        )
    if exclude_group is not None:
        found = found.exclude(groups=exclude_group)
    found = found.order_by("username").only("username", "first_name", "last_name")[:limit]
    return [(someone.username, person_label(someone)) for someone in found]


def person_label(someone) -> str:
    full = someone.get_full_name()
    return f"{full} ({someone.username})" if full else someone.username


# --- Open work: what needs a decision when someone leaves --------------------------------------------


def signoffs_given_on_open_requests(user) -> QuerySet[SignOff]:
    """Approvals ``user`` gave on requests still pending: withdrawn if they lose the role they signed as."""
    return (
        SignOff.objects.filter(signer=user, status=SignOffStatus.APPROVED, request__status=RequestStatus.PENDING)
        .select_related("request__version__feature")
        .order_by("request_id", "role")
    )


def features_owned_by(user) -> QuerySet[AIFeature]:
    """Features not retired whose accountable or incident owner ``user`` is: they need another owner if the
    person leaves. Only governance and auditors see this (they see every feature)."""
    return (
        AIFeature.objects.filter(Q(accountable_owner=user) | Q(incident_owner=user))
        .exclude(status=FeatureStatus.RETIRED)
        .select_related("team")
        .order_by("name")
    )


def person_history(user, *, limit: int = 15) -> list[AuditEvent]:
    """The latest audited changes to ``user``'s roles, teams, account and sessions."""
    return list(
        AuditEvent.objects.filter(
            Q(object_type="user", object_id=str(user.pk))
            | Q(action__in=("team.member_added", "team.member_removed"), payload__user=user.get_username())
        ).order_by("-sequence")[:limit]
    )


# --- Teams ------------------------------------------------------------------------------------------


def teams() -> QuerySet[Team]:
    """Every team by name, with how many active people are in it."""
    return Team.objects.annotate(
        member_count=Count("group__user", filter=Q(group__user__is_active=True), distinct=True)
    ).order_by("name")


def team(slug: str) -> Team:
    """Raises ``Team.DoesNotExist`` for an unknown slug."""
    return teams().get(slug=slug)


def team_members(team: Team) -> QuerySet:
    """The people in ``team`` (active first, then by username), with their memberships of it prefetched."""
    return (
        get_user_model()
        .objects.filter(groups=team.group)
        .prefetch_related(
            Prefetch(
                "memberships",
                queryset=Membership.objects.filter(group=team.group).select_related("granted_by"),
                to_attr="team_memberships",
            )
        )
        .order_by("-is_active", "username")
    )


def member_sources(member, team: Team) -> list[Source]:
    """The sources holding ``member`` in ``team`` (read from ``team_members``' prefetch)."""
    return _sources(member.team_memberships, team.group_id)


def team_member(team: Team, username: str):
    """A person in ``team`` by username; raises ``DoesNotExist`` otherwise."""
    return team_members(team).get(username=username)


# --- Deactivated people whose open work still names them -----------------------------------------------

DEACTIVATION_SOURCES = {
    MembershipSource.MANUAL: "by governance",
    MembershipSource.IDP: "by the identity provider at sign-in",
    MembershipSource.SCIM: "by the identity provider (SCIM)",
}


@dataclass
class DeactivatedPerson:
    """A deactivated person and the open work that still names them."""

    user: object
    deactivated_at: object = None
    deactivated_how: str = ""
    reason: str = ""
    signoffs: list = field(default_factory=list)  # approvals they gave on requests still pending
    features: list = field(default_factory=list)  # (feature, ["accountable owner", "incident owner"])
    incidents: list = field(default_factory=list)  # active incidents they own

    @property
    def count(self) -> int:
        return len(self.signoffs) + len(self.features) + len(self.incidents)


def deactivated_people_with_open_work(viewer, *, limit: int = 50) -> list[DeactivatedPerson]:
    """Deactivated people whose approvals on pending requests, features (not retired) or active incidents
    still name them, for governance to hand over. Only what ``viewer`` may see counts: a restricted feature
    ``viewer`` may not see leaves no trace here, not even the person."""
    visible = features_visible_to(viewer)
    people: dict[int, DeactivatedPerson] = {}
    users = get_user_model().objects.filter(is_active=False)

    def person(user) -> DeactivatedPerson:
        return people.setdefault(user.pk, DeactivatedPerson(user=user))

    signoffs = (
        SignOff.objects.filter(
            status=SignOffStatus.APPROVED,
            request__status=RequestStatus.PENDING,
            signer__in=users,
            request__version__feature__in=visible,
        )
        .select_related("signer", "request__version__feature")
        .order_by("request__created_at", "pk")
    )
    for signoff in signoffs:
        person(signoff.signer).signoffs.append(signoff)
    open_features = visible.exclude(status=FeatureStatus.RETIRED).select_related("accountable_owner", "incident_owner")
    for feature in open_features.filter(accountable_owner__in=users) | open_features.filter(incident_owner__in=users):
        for owner, role in (
            (feature.accountable_owner, "accountable owner"),
            (feature.incident_owner, "incident owner"),
        ):
            if not owner.is_active:
                entry = person(owner)
                for held in entry.features:
                    if held[0].pk == feature.pk:
                        held[1].append(role)
                        break
                else:
                    entry.features.append((feature, [role]))
    incidents = (
        Incident.objects.filter(owner__in=users, status__in=ACTIVE_STATUSES, feature__in=visible)
        .select_related("owner", "feature")
        .order_by("-impact_start", "-pk")
    )
    for incident in incidents:
        person(incident.owner).incidents.append(incident)

    found = sorted(people.values(), key=lambda entry: entry.user.get_username())[:limit]
    events = AuditEvent.objects.filter(
        action="person.deactivated", object_type="user", object_id__in=[str(entry.user.pk) for entry in found]
    ).order_by("sequence")
    latest = {event.object_id: event for event in events}  # the last one wins
    for entry in found:
        event = latest.get(str(entry.user.pk))
        if event is not None:
            entry.deactivated_at = event.at
            entry.deactivated_how = DEACTIVATION_SOURCES.get(event.payload.get("source"), "")
            entry.reason = event.payload.get("reason", "")
    return found
