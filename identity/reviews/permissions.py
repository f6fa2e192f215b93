"""Who may do what with access reviews.

- Governance admins start and close campaigns and see every item.
- Auditors read every campaign and download the exports of closed ones; they decide nothing.
- Everyone else sees only the items put to them (their queue), in the campaigns that have such items.
- An item is decided by a reviewer assigned to it when the campaign started (a team's accountable owner,
  or a governance admin), a role item only while that reviewer still holds the governance role; once an
  item is escalated (past due), by any governance admin too. Nobody decides an item about themselves.
"""

from __future__ import annotations

from core.error_codes import NOT_ELIGIBLE, SEPARATION_OF_DUTIES, Reason
from identity.choices import ReviewItemKind
from registry.permissions import is_governance, sees_everything

STARTERS = "Only governance admins start and close access reviews."
EXPORTERS = "Access review exports are for governance admins and auditors."


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_run_reviews(user) -> bool:
    """Start and close campaigns."""
    return _active(user) and is_governance(user)


def reads_every_review(user) -> bool:
    """Every campaign and every item: governance admins and auditors."""
    return _active(user) and sees_everything(user)


def can_export_reviews(user) -> bool:
    return reads_every_review(user)


def decide_refusal(user, item, *, assigned: bool | None = None) -> Reason | None:
    """Why ``user`` may not decide ``item`` now, or None when they may. ``assigned``: whether the user is
    among the item's reviewers, when the caller knows already (a page of items, prefetched)."""
    if not _active(user):
        return Reason("Sign in as an active user to review access.", NOT_ELIGIBLE)
    if item.user_id == user.pk:
        return Reason("Nobody reviews their own access.", SEPARATION_OF_DUTIES)
    if assigned is None:
        assigned = item.reviewers.filter(pk=user.pk).exists()
    governance = is_governance(user)
    if assigned and (item.kind == ReviewItemKind.TEAM or governance):
        return None
    if governance and item.escalated_at is not None:
        return None  # past due: escalated to governance
    if assigned:
        return Reason("You no longer hold the governance role, so you no longer review role grants.", NOT_ELIGIBLE)
    return Reason("This item is not yours to review.", NOT_ELIGIBLE)
