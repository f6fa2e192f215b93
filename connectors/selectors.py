"""Reads of the connectors app: what each person may see (a feature hidden from them hides its links)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from connectors.models import DriftFinding, MlflowLineage, MlflowModelLink, MlflowServer
from registry.permissions import sees_everything, user_team_ids
from registry.selectors import features_visible_to


def servers_visible_to(user) -> QuerySet[MlflowServer]:
    servers = MlflowServer.objects.select_related("team", "run_as")
    if sees_everything(user):
        return servers
    return servers.filter(team_id__in=user_team_ids(user))


def links_of(server, user) -> QuerySet[MlflowModelLink]:
    return (
        server.links.filter(feature__in=features_visible_to(user))
        .select_related("feature", "catalog_model__vendor")
        .prefetch_related("mappings")
    )


def lineage_of(server, user, limit: int = 50) -> list[MlflowLineage]:
    return list(
        MlflowLineage.objects.filter(link__server=server, version__feature__in=features_visible_to(user))
        .select_related("version__feature", "link")
        .order_by("-imported_at", "-pk")[:limit]
    )


def open_drift_visible_to(user) -> QuerySet[DriftFinding]:
    return (
        DriftFinding.objects.filter(closed_at__isnull=True, feature__in=features_visible_to(user))
        .select_related("feature", "link__server", "live_version")
        .order_by("-opened_at")
    )


def drift_for_owner(user) -> QuerySet[DriftFinding]:
    """Open drift on features the person owns or their team owns (the owners' dashboard)."""
    return open_drift_visible_to(user).filter(
        Q(feature__accountable_owner=user)
        | Q(feature__incident_owner=user)
        | Q(feature__team_id__in=user_team_ids(user))
    )


def open_drift_by_feature(feature_ids) -> dict[int, DriftFinding]:
    """The open drift finding of each of these features (one query; readiness's checklist reads it)."""
    found: dict[int, DriftFinding] = {}
    for finding in DriftFinding.objects.filter(closed_at__isnull=True, feature_id__in=list(feature_ids)).order_by(
        "opened_at"
    ):
        found.setdefault(finding.feature_id, finding)
    return found
