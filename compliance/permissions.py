"""Who may do what with a feature's regulatory profile and compliance documents.

Seeing follows the feature (``registry.selectors.may_see_feature``): whoever may not see it gets a 404.
"""

from __future__ import annotations

from registry.choices import Role
from registry.permissions import can_edit_feature, has_role, is_governance


def can_propose_profile(user, feature) -> bool:
    """The feature's owning team and governance propose its category."""
    return can_edit_feature(user, feature)


def can_confirm_profile(user, feature=None) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and is_governance(user)


def can_write_document(user, feature) -> bool:
    """The owning team writes the documents; so do legal reviewers and governance, who often hold the pen."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return can_edit_feature(user, feature) or has_role(user, Role.LEGAL)


def can_review_document(user, feature=None) -> bool:
    """Legal reviewers and governance sign a document off (never its own author: the service checks that)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return is_governance(user) or has_role(user, Role.LEGAL)
