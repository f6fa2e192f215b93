"""Every read of access reviews that pages and the API share, restricted to what the user may see."""

from __future__ import annotations

from collections import defaultdict
from itertools import groupby

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, Q, QuerySet

from identity.choices import ReviewDecision, ReviewItemKind, ReviewStatus
from identity.models import AccessReview, AccessReviewItem
from identity.reviews.permissions import decide_refusal, reads_every_review
from registry.choices import FeatureStatus, MembershipSource, Role
from registry.models import AIFeature, Membership
from registry.permissions import is_governance
from registry.selectors import role_holders
from registry.services import membership_consequences

DECISIONS = tuple(ReviewDecision.values)


def _counts(reviewer=None) -> dict:
    """Item counts per decision: of every item, or of those put to ``reviewer``."""
    mine = Q(items__reviewers=reviewer) if reviewer is not None else Q()
    counts = {"total": Count("items", filter=mine, distinct=True)}
    for decision in DECISIONS:
        counts[f"n_{decision}"] = Count("items", filter=mine & Q(items__decision=decision), distinct=True)
    counts["n_escalated"] = Count(
        "items",
        filter=mine & Q(items__escalated_at__isnull=False, items__decision=ReviewDecision.PENDING),
        distinct=True,
    )
    return counts


def reviews_visible_to(user) -> QuerySet[AccessReview]:
    """Campaigns, newest first, with their counts: every one, and every item counted, for governance and
    auditors; else those with an item put to the user, counting those items only."""
    reviews = AccessReview.objects.select_related("started_by", "closed_by")
    if reads_every_review(user):
        return reviews.annotate(**_counts()).order_by("-started_at", "-pk")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return reviews.none()
    reviews = reviews.filter(pk__in=AccessReviewItem.objects.filter(reviewers=user).values("review_id"))
    return reviews.annotate(**_counts(user)).order_by("-started_at", "-pk")


def review_detail(*, user, pk) -> AccessReview:
    """One campaign the user may see (``DoesNotExist`` otherwise, also for a malformed id)."""
    try:
        return reviews_visible_to(user).get(pk=int(pk))
    except (TypeError, ValueError):
        raise AccessReview.DoesNotExist from None


def open_review() -> AccessReview | None:
    return AccessReview.objects.filter(status=ReviewStatus.OPEN).select_related("started_by").first()


def _with_relations(items: QuerySet) -> QuerySet[AccessReviewItem]:
    return items.select_related("user", "team", "review", "decided_by").prefetch_related("reviewers")


def items_visible_to(user, *, review: AccessReview | None = None) -> QuerySet[AccessReviewItem]:
    """Items in person order: all of them for governance and auditors, else those put to the user."""
    items = AccessReviewItem.objects.all()
    if review is not None:
        items = items.filter(review=review)
    if not reads_every_review(user):
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return items.none()
        items = items.filter(reviewers=user)
    return _with_relations(items).order_by("user__username", "kind", "role", "team__name", "pk")


def queue_for(user) -> QuerySet[AccessReviewItem]:
    """The pending items of open campaigns the user may decide now: those put to them (role grants only
    while they are governance) and, for governance, every item escalated past its due date. Never their own."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AccessReviewItem.objects.none()
    governance = is_governance(user)
    mine = Q(reviewers=user) if governance else Q(reviewers=user, kind=ReviewItemKind.TEAM)
    if governance:
        mine |= Q(escalated_at__isnull=False)
    ids = (
        AccessReviewItem.objects.filter(review__status=ReviewStatus.OPEN, decision=ReviewDecision.PENDING)
        .filter(mine)
        .exclude(user=user)
        .values("pk")
    )
    return _with_relations(AccessReviewItem.objects.filter(pk__in=ids)).order_by(
        "user__username", "kind", "role", "team__name", "pk"
    )


def item_for_decision(*, user, pk) -> AccessReviewItem:
    """An item the user may see, for deciding it (``DoesNotExist`` otherwise): put to them, or any for
    governance (escalated items) and auditors (who are then refused, not left guessing)."""
    try:
        return items_visible_to(user).get(pk=int(pk))
    except (TypeError, ValueError):
        raise AccessReviewItem.DoesNotExist from None


def rows_for(user, items) -> list[dict]:
    """A page's items with what the user may do with each: ``refusal`` is None where they may decide it."""
    rows = []
    for item in items:
        assigned = any(reviewer.pk == user.pk for reviewer in item.reviewers.all())
        pending = item.decision == ReviewDecision.PENDING and item.review.status == ReviewStatus.OPEN
        rows.append(
            {
                "item": item,
                "pending": pending,
                "refusal": decide_refusal(user, item, assigned=assigned) if pending else None,
            }
        )
    return rows


def grouped_by_person(rows: list[dict]) -> list[dict]:
    """``rows`` (in person order) as ``[{"person": user, "rows": [...]}]``."""
    return [
        {"person": person, "rows": list(group)} for person, group in groupby(rows, key=lambda row: row["item"].user)
    ]


def summary(review: AccessReview) -> dict:
    """Counts of a campaign (from ``reviews_visible_to``'s annotations, or counted now) and how far it is."""
    if not hasattr(review, "total"):
        review = AccessReview.objects.annotate(**_counts()).get(pk=review.pk)
    total = review.total
    decided = review.n_confirmed + review.n_revoked
    return {
        "total": total,
        "pending": review.n_pending,
        "confirmed": review.n_confirmed,
        "revoked": review.n_revoked,
        "not_reviewed": review.n_not_reviewed,
        "escalated": review.n_escalated,
        "decided": decided,
        "percent": round(100 * decided / total) if total else 100,
    }


def without_reviewer(review: AccessReview) -> int:
    return review.items.filter(reviewers__isnull=True).count()


def _group_of(item: AccessReviewItem) -> Group | None:
    if item.kind == ReviewItemKind.ROLE:
        return Group.objects.filter(name=item.role).first()
    return item.team.group if item.team_id else None


def still_held(item: AccessReviewItem) -> bool:
    """Whether the person still holds what the item is about."""
    group = _group_of(item)
    return group is not None and group.user_set.filter(pk=item.user_id).exists()


def current_sources(item: AccessReviewItem) -> list[str]:
    group = _group_of(item)
    if group is None:
        return []
    return sorted(set(Membership.objects.filter(user_id=item.user_id, group=group).values_list("source", flat=True)))


SOURCE_COMES_BACK = {
    MembershipSource.IDP: "The identity provider's group mapping also gives this: it comes back at {name}'s next "
    "sign-in unless they leave that group in the identity provider too.",
    MembershipSource.SCIM: "SCIM provisioning also gives this: it comes back at the identity provider's next push "
    "unless {name} leaves that group there too.",
}


def revoke_consequences(item: AccessReviewItem) -> list[str]:
    """What revoking ``item`` would do beyond itself, for the confirmation before the click is final (e.g.
    a sign-off withdrawn, a grant the identity provider gives back)."""
    if not still_held(item):
        return []
    name = item.user.get_full_name() or item.user.get_username()
    if item.kind == ReviewItemKind.ROLE:
        lines = membership_consequences(item.user, removed_roles=[item.role])
    else:
        lines = membership_consequences(item.user, left_team_ids=[item.team_id])
    for source in current_sources(item):
        if source in SOURCE_COMES_BACK:
            lines.append(SOURCE_COMES_BACK[source].format(name=name))
    if item.kind == ReviewItemKind.ROLE and item.role == Role.GOVERNANCE:
        lines.append(f"{name} can no longer run access reviews, manage teams and roles, or decide governance changes.")
    return lines


def planned_items() -> list[tuple[AccessReviewItem, set[int]]]:
    """Every role grant and team membership of active people as they stand, each with its reviewers.

    Sources are the membership's rows (none: manual, as before sources were kept). A team membership goes
    to the accountable owners of the team's features that are not retired; a role grant, or a team that
    owns none, to governance admins. Nobody reviews their own access: they are left out, and where that
    leaves nobody a team membership falls back to governance (a role grant may be left with none)."""
    through = get_user_model().groups.through
    active = through.objects.filter(user__is_active=True)
    sources: dict[tuple[int, int], set[str]] = defaultdict(set)
    for user_id, group_id, source in Membership.objects.filter(user__is_active=True).values_list(
        "user_id", "group_id", "source"
    ):
        sources[(user_id, group_id)].add(source)
    owners = _team_owners()
    governance = {user.pk for user in role_holders(Role.GOVERNANCE)}

    def sources_of(user_id, group_id) -> list[str]:
        return sorted(sources.get((user_id, group_id)) or {MembershipSource.MANUAL})

    planned = []
    for user_id, group_id, role in active.filter(group__name__in=Role.values).values_list(
        "user_id", "group_id", "group__name"
    ):
        item = AccessReviewItem(
            kind=ReviewItemKind.ROLE, user_id=user_id, role=role, sources=sources_of(user_id, group_id)
        )
        planned.append((item, governance - {user_id}))
    for user_id, group_id, team_id in active.filter(group__team__isnull=False).values_list(
        "user_id", "group_id", "group__team__id"
    ):
        item = AccessReviewItem(
            kind=ReviewItemKind.TEAM, user_id=user_id, team_id=team_id, sources=sources_of(user_id, group_id)
        )
        planned.append((item, (owners.get(team_id, set()) - {user_id}) or (governance - {user_id})))
    return planned


def _team_owners() -> dict[int, set[int]]:
    """team id -> the active accountable owners of its features that are not retired."""
    owners: dict[int, set[int]] = defaultdict(set)
    for team_id, owner_id in (
        AIFeature.objects.exclude(status=FeatureStatus.RETIRED)
        .filter(accountable_owner__is_active=True)
        .order_by()  # not by name (the model's ordering): that would make every feature a distinct row
        .values_list("team_id", "accountable_owner_id")
        .distinct()
    ):
        owners[team_id].add(owner_id)
    return owners


def plan_summary() -> dict:
    """What starting a campaign now would put to reviewers, for the start page: ``planned_items``' counts,
    from plain rows (no item built, no membership source read: none of it is counted)."""
    through = get_user_model().groups.through
    active = through.objects.filter(user__is_active=True)
    role_users = list(active.filter(group__name__in=Role.values).values_list("user_id", flat=True))
    team_rows = list(active.filter(group__team__isnull=False).values_list("user_id", "group__team__id"))
    owners = _team_owners()
    governance = {user.pk for user in role_holders(Role.GOVERNANCE)}
    reviewers: set[int] = set()
    without = 0
    for user_id in role_users:
        found = governance - {user_id}
        reviewers |= found
        without += not found
    for user_id, team_id in team_rows:
        found = (owners.get(team_id, set()) - {user_id}) or (governance - {user_id})
        reviewers |= found
        without += not found
    return {
        "items": len(role_users) + len(team_rows),
        "people": len(set(role_users) | {user_id for user_id, _team in team_rows}),
        "role_grants": len(role_users),
        "team_memberships": len(team_rows),
        "reviewers": len(reviewers),
        "without_reviewer": without,
    }
