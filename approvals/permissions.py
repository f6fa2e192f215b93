"""Separation of duties and who may act on gates. The services enforce these; pages use them to explain."""

from __future__ import annotations

from approvals.models import SignOff
from core.error_codes import NOT_ELIGIBLE, SEPARATION_OF_DUTIES, Reason
from registry.choices import Role
from registry.permissions import can_edit_feature, has_role, is_governance


def signoff_refusal(user, signoff: SignOff, *, signed_roles: dict[int, str] | None = None) -> Reason | None:
    """Why ``user`` may not sign ``signoff`` (None when they may). State (pending or not) is not checked here.

    The reason is the text people read, carrying its code for the API (``not_eligible`` or
    ``separation_of_duties``).

    ``signed_roles`` maps a signer's id to the role they already signed on this request; pass it to
    avoid a query per sign-off on list pages.
    """
    request = signoff.request
    version = request.version
    if not has_role(user, signoff.role):
        return Reason(f"Only holders of the {Role(signoff.role).label.lower()} role sign for it.", NOT_ELIGIBLE)
    if version.author_id == user.pk:
        return Reason(
            "You wrote this version, so someone else must review it (separation of duties).", SEPARATION_OF_DUTIES
        )
    if version.submitted_by_id == user.pk:
        return Reason(
            "You submitted this version, so someone else must review it (separation of duties).", SEPARATION_OF_DUTIES
        )
    if request.requester_id == user.pk:
        return Reason(
            "You requested this gate, so someone else must review it (separation of duties).", SEPARATION_OF_DUTIES
        )
    if signed_roles is None:
        signed_roles = dict(request.signoffs.filter(signer__isnull=False).values_list("signer_id", "role"))
    if user.pk in signed_roles:
        role = Role(signed_roles[user.pk]).label.lower()
        return Reason(
            f"You already signed this request as {role}; a person signs at most one role of a request.",
            SEPARATION_OF_DUTIES,
        )
    return None


def can_request_gate(user, feature) -> bool:
    return can_edit_feature(user, feature)


def can_promote(user, feature) -> bool:
    return can_edit_feature(user, feature)


def can_manage_gates(user) -> bool:
    return is_governance(user)
