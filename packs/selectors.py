"""Reads of the packs app: a user's own exports, of features they may still export packs of."""

from __future__ import annotations

from django.db.models import QuerySet

from packs.models import PackExport
from registry.permissions import sees_everything, user_team_ids
from registry.selectors import features_visible_to


def exports_visible_to(user) -> QuerySet[PackExport]:
    """The user's own exports, of features they can still see and export (a user who left a team loses
    the packs of its restricted features with the feature itself)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return PackExport.objects.none()
    exports = PackExport.objects.filter(requested_by=user, feature__in=features_visible_to(user))
    if not sees_everything(user):
        exports = exports.filter(feature__team_id__in=user_team_ids(user))
    return exports


def export_list(*, user) -> QuerySet[PackExport]:
    return exports_visible_to(user).select_related("feature", "version", "requested_by").order_by("-created_at", "-id")


def export_detail(*, user, pk: int) -> PackExport:
    """Raises ``PackExport.DoesNotExist`` for exports that are not the user's, as for missing ones."""
    return export_list(user=user).get(pk=pk)


def recent_exports_of(*, user, feature, version=None, limit: int = 5) -> list[PackExport]:
    exports = export_list(user=user).filter(feature=feature)
    exports = exports.filter(version=version) if version is not None else exports.filter(version__isnull=True)
    return list(exports[:limit])
