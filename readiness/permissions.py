"""Who may do what in the readiness app. Reading follows the features a user may see (selectors)."""

from registry.permissions import is_governance


def can_take_snapshot(user) -> bool:
    """The daily snapshot is the beat task's; governance admins may take one on demand."""
    return is_governance(user)
