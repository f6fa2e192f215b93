"""Every read a page or endpoint makes starts here, restricted to what the user may see.

Selectors own ``select_related``/``prefetch_related`` so lists cost a constant number of queries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django_otp_webauthn.models import WebAuthnCredential

from registry.choices import ChangeRequestStatus, DeploymentEventKind, Role
from registry.models import (
    AIFeature,
    AIFeatureGroupObjectPermission,
    AIFeatureUserObjectPermission,
    ApiToken,
    AuditChainHead,
    AuditEvent,
    CatalogModel,
    Dataset,
    Deployment,
    DeploymentEvent,
    Evaluation,
    FeatureChangeRequest,
    FeatureVersion,
    Notification,
    PolicyPack,
    PromptVersion,
    ReadRecord,
    Region,
    ReviewerGrant,
    Team,
    Vendor,
    VersionDataset,
    VersionFallback,
)
from registry.permissions import can_read_audit_trail, sees_everything, user_team_ids


def features_visible_to(user) -> QuerySet[AIFeature]:
    """Unrestricted features for every signed-in user; restricted ones for their team and grantees."""
    features = AIFeature.objects.all()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return features.none()
    if sees_everything(user):
        return features
    by_group = AIFeatureGroupObjectPermission.objects.filter(
        group__user=user, permission__codename="view_aifeature"
    ).values("content_object_id")
    by_user = AIFeatureUserObjectPermission.objects.filter(user=user, permission__codename="view_aifeature").values(
        "content_object_id"
    )
    by_grant = ReviewerGrant.objects.active().filter(user=user).values("feature_id")
    return features.filter(Q(restricted=False) | Q(pk__in=by_group) | Q(pk__in=by_user) | Q(pk__in=by_grant))


def people_who_see(feature: AIFeature):
    """Active people who may see ``feature``: everyone for an unrestricted one; for a restricted one its
    team and grantees, governance admins and auditors (the other side of ``features_visible_to``)."""
    from django.contrib.auth import get_user_model

    people = get_user_model().objects.filter(is_active=True)
    if not feature.restricted:
        return people
    by_group = AIFeatureGroupObjectPermission.objects.filter(
        content_object=feature, permission__codename="view_aifeature"
    ).values("group")
    by_user = AIFeatureUserObjectPermission.objects.filter(
        content_object=feature, permission__codename="view_aifeature"
    ).values("user")
    by_grant = ReviewerGrant.objects.active().filter(feature=feature).values("user")
    overseers = Q(is_superuser=True) | Q(groups__name__in=(Role.GOVERNANCE, Role.AUDITOR))
    return people.filter(
        pk__in=people.filter(Q(groups__in=by_group) | Q(pk__in=by_user) | Q(pk__in=by_grant) | overseers).values("pk")
    )


def may_see_feature(user, feature: AIFeature) -> bool:
    """Whether ``user`` may see ``feature`` (one query for a restricted feature someone else owns)."""
    if not feature.restricted:
        return bool(getattr(user, "is_authenticated", False) and user.is_active)
    return features_visible_to(user).filter(pk=feature.pk).exists()


def role_holders(role: str, *, exclude: Iterable[int] = ()) -> list:
    """Active holders of ``role`` (e.g. every governance admin, to be told), less the ids in ``exclude``."""
    from django.contrib.auth import get_user_model

    return list(
        get_user_model().objects.filter(groups__name=role, is_active=True).exclude(pk__in=list(exclude)).distinct()
    )


def seers_of_restricted(features) -> dict[int, set[int]]:
    """``{feature id: ids of the people who may see it}`` for the restricted ones among ``features``: the
    rule of ``features_visible_to`` read from the features' side (their team and anyone they are shared
    with, governance admins, auditors, holders of a reviewer grant in force), for a whole page of features
    in four queries (none if none is restricted). Open features are left out: everyone signed in sees them."""
    from django.contrib.auth import get_user_model

    ids = [feature.pk for feature in features if feature.restricted]
    if not ids:
        return {}
    everyone = set(
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[Role.GOVERNANCE, Role.AUDITOR]))
        .values_list("pk", flat=True)
    )
    seers: dict[int, set[int]] = {pk: set(everyone) for pk in ids}
    pairs = [
        AIFeatureGroupObjectPermission.objects.filter(
            content_object_id__in=ids, permission__codename="view_aifeature", group__user__isnull=False
        ).values_list("content_object_id", "group__user"),
        AIFeatureUserObjectPermission.objects.filter(
            content_object_id__in=ids, permission__codename="view_aifeature"
        ).values_list("content_object_id", "user_id"),
        ReviewerGrant.objects.active().filter(feature_id__in=ids).values_list("feature_id", "user_id"),
    ]
    for rows in pairs:
        for feature_id, user_id in rows:
            seers[feature_id].add(user_id)
    return seers


def reviewer_grants_visible_to(user) -> QuerySet[ReviewerGrant]:
    """Grants on the features the user may see, newest first."""
    return (
        ReviewerGrant.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature", "user", "granted_by", "ended_by")
        .order_by("-created_at", "-id")
    )


def reviewer_grants_of_feature(*, feature: AIFeature) -> QuerySet[ReviewerGrant]:
    """The feature's grants, those in force first, then the ended ones newest first."""
    return (
        ReviewerGrant.objects.filter(feature=feature)
        .select_related("user", "granted_by", "ended_by")
        .order_by(F("ended_at").desc(nulls_first=True), "-expires_at", "-id")
    )


def feature_list(*, user) -> QuerySet[AIFeature]:
    """The features list's rows, each with its ``version_count``: a subquery per row shown (the page's
    fifty), not a GROUP BY over every version before the page is cut; ``count()`` leaves it out."""
    versions = (
        FeatureVersion.objects.filter(feature=OuterRef("pk"))
        .order_by()
        .values("feature")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        features_visible_to(user)
        .select_related("team", "accountable_owner")
        .prefetch_related("regions")
        .annotate(version_count=Coalesce(Subquery(versions), 0))
        .order_by("name")
    )


def feature_detail(*, user, slug: str) -> AIFeature:
    """Raises ``AIFeature.DoesNotExist`` for features the user may not see, as for missing ones."""
    return (
        features_visible_to(user)
        .select_related("team", "accountable_owner", "incident_owner", "created_by")
        .prefetch_related("regions")
        .get(slug=slug)
    )


def feature_fresh_copy(*, feature: AIFeature) -> AIFeature:
    """A new instance of ``feature`` read again, for a form to type into (a failed save leaves ``feature`` as it was)."""
    return AIFeature.objects.get(pk=feature.pk)


def feature_suggestions(*, user, typed: str, limit: int = 20) -> list[tuple[str, str]]:
    """``(slug, name)`` of at most ``limit`` features the user may see whose name or slug contains
    ``typed``, by name (all of them, by name, when nothing is typed): what a feature box suggests."""
    features = features_visible_to(user)
    if typed:
        features = features.filter(Q(name__icontains=typed) | Q(slug__icontains=typed))
    return list(features.order_by("name", "slug").values_list("slug", "name")[:limit])


def feature_change_requests_visible_to(user) -> QuerySet[FeatureChangeRequest]:
    """Changes waiting for (or decided by) governance: every one for governance admins and auditors, those
    of the features a team member may see and their team owns for everyone else."""
    changes = FeatureChangeRequest.objects.select_related("feature", "requested_by", "decided_by")
    if sees_everything(user):
        return changes
    return changes.filter(feature__in=features_visible_to(user), feature__team__in=user_team_ids(user))


def feature_change_request(*, feature: AIFeature, pk: int) -> FeatureChangeRequest:
    """One change request of ``feature`` (the caller found the feature among those the user may see);
    raises ``FeatureChangeRequest.DoesNotExist``."""
    return FeatureChangeRequest.objects.get(pk=pk, feature=feature)


def pending_change_request(*, feature: AIFeature) -> FeatureChangeRequest | None:
    """The feature's change waiting for governance, if any."""
    return (
        FeatureChangeRequest.objects.filter(feature=feature, status=ChangeRequestStatus.PENDING)
        .select_related("requested_by")
        .first()
    )


def _version_related(queryset: QuerySet[FeatureVersion]) -> QuerySet[FeatureVersion]:
    return queryset.select_related(
        "feature",
        "feature__team",
        "model",
        "model__vendor",
        "prompt",
        "policy_pack",
        "parent",
        "author",
        "submitted_by",
    ).prefetch_related(
        Prefetch("fallbacks", queryset=VersionFallback.objects.select_related("model", "model__vendor")),
        Prefetch("dataset_links", queryset=VersionDataset.objects.select_related("dataset")),
        "policy_pack__allowed_regions",
    )


def versions_visible_to(user) -> QuerySet[FeatureVersion]:
    return FeatureVersion.objects.filter(feature__in=features_visible_to(user))


def version_list(*, user) -> QuerySet[FeatureVersion]:
    return _version_related(versions_visible_to(user)).order_by("feature__name", "-number")


def versions_of_feature(*, feature: AIFeature) -> QuerySet[FeatureVersion]:
    return (
        _version_related(feature.versions.all())
        .annotate(evaluation_count=Count("evaluations", distinct=True))
        .order_by("-number")
    )


def version_detail(*, user, slug: str, number: int) -> FeatureVersion:
    return _version_related(versions_visible_to(user)).get(feature__slug=slug, number=number)


def evaluations_visible_to(user) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(version__feature__in=features_visible_to(user))
        .select_related("version", "version__feature", "region", "recorded_by")
        .order_by("-run_at", "-id")
    )


def evaluations_of_feature(*, feature: AIFeature) -> QuerySet[Evaluation]:
    return (
        Evaluation.objects.filter(version__feature=feature)
        .select_related("version", "version__feature", "region", "recorded_by")
        .order_by("-run_at", "-id")
    )


def audit_events_visible_to(user) -> QuerySet[AuditEvent]:
    if not can_read_audit_trail(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("actor").order_by("-sequence")


CONTROL_ACTIONS = (
    "vendor.suspended",
    "vendor.reinstated",
    "model.suspended",
    "model.reinstated",
    "gate_policy.updated",
    "gate_assignment.updated",
)


def audit_trail_position() -> int | None:
    """The sequence of the newest audited change (the chain head's): it moves with every write made through
    the services, so what is counted under it may be kept until it moves. None before the trail exists."""
    return AuditChainHead.objects.filter(pk=1).values_list("last_sequence", flat=True).first()


def control_changes(*, user) -> QuerySet[AuditEvent]:
    """Recent suspensions, reinstatements and gate changes, newest first: for those who read the trail."""
    return audit_events_visible_to(user).filter(action__in=CONTROL_ACTIONS).select_related("actor")


def read_records_visible_to(user) -> QuerySet[ReadRecord]:
    """Who read which restricted feature, newest first: for governance admins and auditors only."""
    if not can_read_audit_trail(user):
        return ReadRecord.objects.none()
    return ReadRecord.objects.select_related("feature").order_by("-at", "-id")


def feature_history(*, feature: AIFeature, limit: int = 50) -> list[AuditEvent]:
    """The audit events about a feature and its versions, newest first (already visible with it)."""
    return list(AuditEvent.objects.filter(feature=feature).order_by("-sequence")[:limit])


# --- Catalog ------------------------------------------------------------------------------


def vendors() -> QuerySet[Vendor]:
    """Every vendor (the catalog is open to everyone signed in), unordered and without figures."""
    return Vendor.objects.all()


def vendor_list() -> QuerySet[Vendor]:
    return Vendor.objects.annotate(model_count=Count("models", distinct=True)).order_by("name")


def catalog_model_list() -> QuerySet[CatalogModel]:
    return (
        CatalogModel.objects.select_related("vendor").prefetch_related("regions").order_by("vendor__name", "identifier")
    )


def _used_only_where_hidden(entries: QuerySet, user, *, used_by: str) -> QuerySet:
    """Entries minus those that only features the user may not see use: a prompt's text or a dataset's URI
    says what a restricted feature does. Unused entries, and entries any visible feature uses, stay."""
    if sees_everything(user):
        return entries
    using = FeatureVersion.objects.filter(**{used_by: OuterRef("pk")})
    return entries.filter(~Exists(using) | Exists(using.filter(feature__in=features_visible_to(user))))


def prompt_list(*, user) -> QuerySet[PromptVersion]:
    return _used_only_where_hidden(
        PromptVersion.objects.select_related("created_by").order_by("name", "-version"), user, used_by="prompt"
    )


def policy_pack_list() -> QuerySet[PolicyPack]:
    return PolicyPack.objects.prefetch_related("allowed_regions").order_by("name", "-version")


def dataset_list(*, user) -> QuerySet[Dataset]:
    return _used_only_where_hidden(
        Dataset.objects.select_related("owner").order_by("name", "-created_at"), user, used_by="datasets"
    )


DEPENDENCY_KINDS = ("vendor", "model", "prompt", "policy", "dataset")


def versions_depending_on(kind: str, entry, *, user) -> QuerySet[FeatureVersion]:
    """The versions that depend on a catalog entry: the one rule for catalog pages, impact analysis,
    drills and route changes.

    ``kind`` is one of ``DEPENDENCY_KINDS``: a vendor (its models as primary or fallback), a model (as
    primary or fallback), a prompt version, a policy pack, a dataset (for training, evaluation or
    retrieval). ``entry`` is one entry of that kind, or a queryset of them (any of them). ``user``: only
    the versions they may see; ``None`` for every version (what services and tasks decide for everyone).
    Fallbacks and datasets by subquery: a join would repeat a version once per matching link and call
    for DISTINCT.
    """
    entries = entry if isinstance(entry, QuerySet) else [entry]

    def fallback_to(**lookup) -> Q:
        return Q(pk__in=VersionFallback.objects.filter(**lookup).values("version_id"))

    lookups = {
        "vendor": lambda: Q(model__vendor__in=entries) | fallback_to(model__vendor__in=entries),
        "model": lambda: Q(model__in=entries) | fallback_to(model__in=entries),
        "prompt": lambda: Q(prompt__in=entries),
        "policy": lambda: Q(policy_pack__in=entries),
        "dataset": lambda: Q(pk__in=VersionDataset.objects.filter(dataset__in=entries).values("version_id")),
    }
    if kind not in lookups:
        raise ValueError(f"Unknown kind of catalog entry {kind!r}: choose one of {', '.join(DEPENDENCY_KINDS)}.")
    versions = FeatureVersion.objects.all() if user is None else versions_visible_to(user)
    return versions.filter(lookups[kind]())


def versions_using(*, user, kind: str, entry) -> QuerySet[FeatureVersion]:
    """The visible versions that depend on a catalog entry (``versions_depending_on``), for its page's usage
    table: by feature, newest first."""
    return (
        versions_depending_on(kind, entry, user=user)
        .select_related("feature", "feature__team", "model", "prompt", "policy_pack")
        .order_by("feature__name", "-number")
    )


def dataset_usage(*, user, dataset: Dataset) -> QuerySet[VersionDataset]:
    """How visible versions use a dataset (training, evaluation, retrieval): one row per use."""
    return (
        VersionDataset.objects.filter(dataset=dataset, version__in=versions_visible_to(user))
        .select_related("version", "version__feature", "version__feature__team")
        .order_by("version__feature__name", "-version__number", "usage")
    )


# --- Deployments ------------------------------------------------------------------------------


def visibility_key(user) -> str | None:
    """Which features ``user`` sees, in a few characters: ``all`` for those who see every feature, else a
    digest of the restricted ones they may see (everyone signed in sees the others). People with the same
    key see the same features: what is computed over every feature one of them sees (a gap table, the
    refused routes) may be kept for the others; one who gains or loses a restricted feature gets another
    key. None for someone who sees nothing."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return None
    if sees_everything(user):
        return "all"
    restricted = features_visible_to(user).filter(restricted=True).order_by("pk").values_list("pk", flat=True)
    return "some-" + hashlib.sha256(",".join(map(str, restricted)).encode()).hexdigest()[:24]


def deployments_visible_to(user) -> QuerySet[Deployment]:
    return (
        Deployment.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature", "region", "version", "updated_by")
        .order_by("feature__name", "environment", "region__code")
    )


def deployment_events_visible_to(user) -> QuerySet[DeploymentEvent]:
    return (
        DeploymentEvent.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature", "region", "from_version", "to_version", "actor")
        .order_by("-at", "-id")
    )


def live_pointer(*, feature: AIFeature, environment: str, region_code: str) -> Deployment | None:
    """What serves ``feature`` in ``environment`` and the region with code ``region_code`` (None: nothing)."""
    return (
        Deployment.objects.filter(feature=feature, environment=environment, region__code=region_code)
        .select_related("region", "version", "version__model", "version__prompt")
        .first()
    )


def deployment_as_queryset(deployment: Deployment) -> QuerySet[Deployment]:
    """``deployment`` as a queryset of one, for what takes deployments (the resolve refusals)."""
    return Deployment.objects.filter(pk=deployment.pk)


def feature_deployments(*, feature: AIFeature) -> QuerySet[Deployment]:
    return feature.deployments.select_related(
        "region", "version", "version__feature", "version__model", "updated_by"
    ).order_by("-environment", "region__code")


def feature_deployment_events(*, feature: AIFeature, limit: int = 50) -> list[DeploymentEvent]:
    return list(
        feature.deployment_events.select_related("region", "from_version", "to_version", "actor").order_by(
            "-at", "-id"
        )[:limit]
    )


def live_at(*, feature: AIFeature, environment: str, region, at) -> DeploymentEvent | None:
    """The deployment event that made the version live at ``at`` (None: nothing was live then).

    "What was live for claims-triage in production/eu at 14:02?" is the newest event at or before then,
    unless that event withdrew the pointer.
    """
    event = (
        DeploymentEvent.objects.filter(feature=feature, environment=environment, region=region, at__lte=at)
        .select_related(
            "to_version",
            "to_version__feature",
            "to_version__model",
            "to_version__model__vendor",
            "to_version__prompt",
            "to_version__policy_pack",
            "actor",
            "region",
        )
        .order_by("-at", "-id")
        .first()
    )
    return None if event is not None and event.kind == DeploymentEventKind.WITHDRAWN else event


# --- People, places and the signed-in user's own records -----------------------------------------


def team_list() -> QuerySet[Team]:
    return Team.objects.order_by("name")


def region_list() -> QuerySet[Region]:
    return Region.objects.order_by("code")


def region_by_code(code: str) -> Region:
    """Raises ``Region.DoesNotExist`` for an unknown code."""
    return Region.objects.get(code=code)


def notifications_of(user) -> QuerySet[Notification]:
    """The user's own notices, newest first."""
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def api_tokens_of(user) -> QuerySet[ApiToken]:
    """The user's own API tokens, newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_of(user, pk: int) -> ApiToken:
    """One of the user's own API tokens; raises ``ApiToken.DoesNotExist`` for anyone else's."""
    return ApiToken.objects.get(pk=pk, user=user)


# --- Second factor ------------------------------------------------------------------------------


def confirmed_devices_of(user, model) -> QuerySet:
    """The user's confirmed devices of one kind (``model``: an authenticator app, passkey...), oldest first."""
    return model.objects.devices_for_user(user, confirmed=True).order_by("created_at", "pk")


def device_of(*, user, model, pk):
    """The user's own device of kind ``model`` with id ``pk``; None for anyone else's or a missing one."""
    return model.objects.filter(pk=pk, user=user).first()


def passkey(pk: int):
    """The passkey with id ``pk`` (raises ``DoesNotExist``)."""
    return WebAuthnCredential.objects.get(pk=pk)


def known_tools(*, user, versions: int = 500) -> list[dict]:
    """The tools (name and scopes) that versions of features the user may see declare, by name: what the
    version form offers to pick from. The newest declaration of a name wins; at most ``versions`` are read."""
    found: dict[str, dict] = {}
    declared = (
        FeatureVersion.objects.filter(feature__in=features_visible_to(user))
        .exclude(tools=[])
        .order_by("-created_at")
        .values_list("tools", flat=True)[:versions]
    )
    for tools in declared:
        for tool in tools if isinstance(tools, list) else []:
            name = tool.get("name") if isinstance(tool, dict) else None
            if isinstance(name, str) and name and name not in found:
                found[name] = {"name": name, "scopes": [s for s in tool.get("scopes") or [] if isinstance(s, str)]}
    return sorted(found.values(), key=lambda tool: tool["name"])
