"""Who may build and download evidence packs.

Governance admins and auditors, for every feature (restricted ones included); members of the owning team,
for their team's features. Everyone else is refused, and restricted features stay invisible (404) to those
who may not see them, as everywhere else. A pack export is its requester's: nobody else opens or downloads it.
"""

from django.core.exceptions import PermissionDenied

from registry.permissions import sees_everything, user_team_ids

REFUSAL = "Evidence packs are for governance admins, auditors and the feature's own team."


def can_export_packs_of(user, feature) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return sees_everything(user) or feature.team_id in user_team_ids(user)


def require_pack_exporter(user, feature) -> None:
    if not can_export_packs_of(user, feature):
        raise PermissionDenied(REFUSAL)


def can_open_export(user, export) -> bool:
    return export.requested_by_id == getattr(user, "pk", None) and can_export_packs_of(user, export.feature)
