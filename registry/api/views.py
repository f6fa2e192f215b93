"""API endpoints. Each parses input with a serializer, calls the same service the pages call, and
renders the result; lists start from the same selectors and FilterSets as the pages."""

from __future__ import annotations

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IdempotentPostMixin
from core.api.pagination import BoundedCountPagination
from registry import selectors, services
from registry.api import serializers as s
from registry.api.scopes import CI_WRITE, TokenScopePermission
from registry.filters import (
    AuditEventFilter,
    CatalogModelFilter,
    DatasetFilter,
    DeploymentEventFilter,
    DeploymentFilter,
    EvaluationFilter,
    FeatureFilter,
    PolicyPackFilter,
    PromptVersionFilter,
    ReadRecordFilter,
    VendorFilter,
    VersionFilter,
)
from registry.models import AIFeature, AuditVerificationRun, FeatureVersion, ReviewerGrant
from registry.permissions import can_read_audit_trail


class ServiceCreateMixin:
    """POST: validate with ``get_serializer``, hand ``validated_data`` to ``perform_service_create``."""

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_service_create(dict(serializer.validated_data))
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=status.HTTP_201_CREATED)

    def perform_service_create(self, data):
        raise NotImplementedError


class ReadCreateViewSet(
    IdempotentPostMixin,
    ServiceCreateMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    pass


# --- Features --------------------------------------------------------------------------------


@extend_schema_view(
    partial_update=extend_schema(
        responses={
            200: s.FeatureSerializer,
            202: OpenApiResponse(
                s.FeatureUpdateAcceptedSerializer,
                description="Part of the edit weakens governance (a lower risk tier, the restriction lifted, more "
                "regions for a restricted or regulated feature): it waits for governance as the "
                "returned change request; the rest of the edit applied.",
            ),
        }
    )
)
class FeatureViewSet(ReadCreateViewSet, mixins.UpdateModelMixin):
    """AI features. Restricted features are visible only to their team, governance and auditors."""

    serializer_class = s.FeatureSerializer
    filterset_class = FeatureFilter
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.feature_list(user=self.request.user).select_related("incident_owner", "created_by")

    def retrieve(self, request, *args, **kwargs):
        feature = self.get_object()
        services.read_record(user=request.user, feature=feature, what="feature")
        return Response(self.get_serializer(feature).data)

    def perform_service_create(self, data):
        data.pop("change_reason", None)
        regions = data.pop("regions")
        return services.feature_create(actor=self.request.user, regions=regions, **data)

    def partial_update(self, request, *args, **kwargs):
        feature = self.get_object()
        serializer = self.get_serializer(feature, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "slug" in data and data.pop("slug") != feature.slug:
            raise ValidationError({"slug": ["A feature's slug cannot change; routers depend on it."]})
        reason = data.pop("change_reason", "")
        regions = data.pop("regions", None)
        updated = services.feature_update(actor=request.user, feature=feature, reason=reason, regions=regions, **data)
        current = self.get_serializer(self.get_queryset().get(pk=feature.pk)).data
        if updated.change_request is None:
            return Response(current)
        body = {
            "detail": "These changes need governance approval and were sent as a request; the rest of the edit applied.",
            "change_request": s.FeatureChangeRequestSerializer(updated.change_request).data,
            "feature": current,
        }
        return Response(body, status=status.HTTP_202_ACCEPTED)


class FeatureChangeRequestViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Changes that weaken a feature's governance, asked by its team: governance approves or rejects them.
    Listed for governance and auditors (every one) and for a feature's team (their features')."""

    serializer_class = s.FeatureChangeRequestSerializer

    def get_queryset(self):
        return selectors.feature_change_requests_visible_to(self.request.user)

    @extend_schema(request=s.FeatureChangeDecisionSerializer, responses=s.FeatureChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Governance applies the change (not the person who asked: separation of duties)."""
        return self._decide(services.feature_change_approve)

    @extend_schema(request=s.FeatureChangeDecisionSerializer, responses=s.FeatureChangeRequestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Governance keeps the feature as it is, saying why."""
        return self._decide(services.feature_change_reject)

    def _decide(self, decide):
        change = self.get_object()
        serializer = s.FeatureChangeDecisionSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        decided = decide(actor=self.request.user, change=change, reason=serializer.validated_data.get("reason", ""))
        return Response(s.FeatureChangeRequestSerializer(self.get_queryset().get(pk=decided.pk)).data)


# --- Versions and evidence ---------------------------------------------------------------------


def _version_arguments(feature: AIFeature, data: dict) -> dict:
    """Serializer output → service keyword arguments (parent number → version, dataset links → tuples)."""
    arguments = dict(data)
    arguments.pop("feature", None)
    if "parent" in arguments:
        number = arguments.pop("parent")
        if number is None:
            arguments["parent"] = None
        else:
            try:
                arguments["parent"] = feature.versions.get(number=number)
            except FeatureVersion.DoesNotExist:
                raise ValidationError({"parent": [f"{feature.slug} has no version {number}."]}) from None
    if "datasets" in arguments:
        arguments["datasets"] = [(link["dataset"], link["usage"]) for link in arguments["datasets"]]
    if "tools" in arguments:
        arguments["tools"] = [dict(tool) for tool in arguments["tools"]]
    return arguments


@extend_schema(request=s.VersionWriteSerializer, responses=s.VersionSerializer, methods=["POST", "PATCH"])
class VersionViewSet(ReadCreateViewSet, mixins.UpdateModelMixin):
    """Feature versions. Drafts may change (PATCH); ``submit`` locks and hashes one."""

    token_scopes = {"create": {CI_WRITE}, "partial_update": {CI_WRITE}, "submit": {CI_WRITE}}

    filterset_class = VersionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.version_list(user=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        version = self.get_object()
        services.read_record(user=request.user, feature=version.feature, what="version", object_id=version.number)
        return Response(self.get_serializer(version).data)

    def get_serializer_class(self):
        if self.action in {"create", "partial_update"} and self.request.method != "GET":
            return s.VersionWriteSerializer
        return s.VersionSerializer

    def create(self, request, *args, **kwargs):
        serializer = s.VersionWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        feature = data.get("feature")
        if feature is None:
            raise ValidationError({"feature": ["Name the feature (its slug)."]})
        version = services.version_create(actor=request.user, feature=feature, **_version_arguments(feature, data))
        return Response(
            s.VersionSerializer(self.get_queryset().get(pk=version.pk)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request, *args, **kwargs):
        version = self.get_object()
        serializer = s.VersionWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        if "feature" in serializer.validated_data and serializer.validated_data["feature"].pk != version.feature_id:
            raise ValidationError({"feature": ["A version cannot move to another feature; create one there instead."]})
        services.version_update(
            actor=request.user, version=version, **_version_arguments(version.feature, dict(serializer.validated_data))
        )
        return Response(s.VersionSerializer(self.get_queryset().get(pk=version.pk)).data)

    @extend_schema(request=None, responses=s.VersionSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit a draft: it becomes immutable and carries its configuration hash."""
        version = services.version_submit(actor=request.user, version=self.get_object())
        return Response(s.VersionSerializer(self.get_queryset().get(pk=version.pk)).data)


class EvaluationViewSet(ReadCreateViewSet):
    """Evidence attached to versions."""

    token_scopes = {"create": {CI_WRITE}}

    serializer_class = s.EvaluationSerializer
    filterset_class = EvaluationFilter
    pagination_class = BoundedCountPagination  # hundreds of thousands: counted up to 10,000

    def get_queryset(self):
        return selectors.evaluations_visible_to(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        shown = page if page is not None else queryset
        services.read_record_many(
            user=self.request.user,
            features=[e.version.feature for e in shown if e.version.feature.restricted],
            what="evidence",
        )
        return page

    def retrieve(self, request, *args, **kwargs):
        evaluation = self.get_object()
        services.read_record(
            user=request.user, feature=evaluation.version.feature, what="evidence", object_id=evaluation.pk
        )
        return Response(self.get_serializer(evaluation).data)

    def perform_service_create(self, data):
        version = data.pop("version")  # the serializer only accepts versions the user may see
        return services.evaluation_record(actor=self.request.user, version=version, **data)


# --- Catalog ---------------------------------------------------------------------------------


class VendorViewSet(ReadCreateViewSet):
    serializer_class = s.VendorSerializer
    filterset_class = VendorFilter
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.vendor_list()

    def perform_service_create(self, data):
        return services.vendor_create(actor=self.request.user, **data)


class CatalogModelViewSet(ReadCreateViewSet):
    serializer_class = s.CatalogModelSerializer
    filterset_class = CatalogModelFilter

    def get_queryset(self):
        return selectors.catalog_model_list()

    def perform_service_create(self, data):
        return services.catalog_model_create(actor=self.request.user, **data)


class PromptVersionViewSet(ReadCreateViewSet):
    """Prompt versions. POST with an existing name adds its next version."""

    token_scopes = {"create": {CI_WRITE}}

    serializer_class = s.PromptVersionSerializer
    filterset_class = PromptVersionFilter

    def get_queryset(self):
        return selectors.prompt_list(user=self.request.user)

    def perform_service_create(self, data):
        return services.prompt_version_create(actor=self.request.user, **data)


class PolicyPackViewSet(ReadCreateViewSet):
    """Policy packs. POST with an existing name adds its next version."""

    serializer_class = s.PolicyPackSerializer
    filterset_class = PolicyPackFilter

    def get_queryset(self):
        return selectors.policy_pack_list()

    def perform_service_create(self, data):
        data["allowed_tools"] = [dict(tool) for tool in data.get("allowed_tools", [])]
        return services.policy_pack_create(actor=self.request.user, **data)


class DatasetViewSet(ReadCreateViewSet):
    token_scopes = {"create": {CI_WRITE}}
    serializer_class = s.DatasetSerializer
    filterset_class = DatasetFilter

    def get_queryset(self):
        return selectors.dataset_list(user=self.request.user)

    def perform_service_create(self, data):
        return services.dataset_create(actor=self.request.user, **data)


class RegionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.RegionSerializer

    def get_queryset(self):
        return selectors.region_list()

    filterset_class = None


# --- Deployments --------------------------------------------------------------------------------


class DeploymentViewSet(IdempotentPostMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """What is live where: one row per feature, environment and region."""

    token_scopes = {"rollback": {CI_WRITE}}  # a pipeline rolls back a failed canary; withdraw is a person's call

    serializer_class = s.DeploymentSerializer
    filterset_class = DeploymentFilter

    def get_queryset(self):
        return selectors.deployments_visible_to(self.request.user)

    @extend_schema(request=s.RollbackSerializer, responses={201: s.DeploymentEventSerializer})
    @action(detail=False, methods=["post"])
    def rollback(self, request):
        """Return a pointer to a version that served it before. Needs a reason, not a new approval."""
        serializer = s.RollbackSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        feature = data["feature"]
        to_version = None
        if data.get("to_version"):
            to_version = feature.versions.filter(number=data["to_version"]).first()
            if to_version is None:
                raise ValidationError({"to_version": [f"{feature.slug} has no version {data['to_version']}."]})
        event = services.deployment_rollback(
            actor=request.user,
            feature=feature,
            environment=data["environment"],
            region=data["region"],
            to_version=to_version,
            reason=data["reason"],
        )
        event = selectors.deployment_events_visible_to(request.user).get(pk=event.pk)
        return Response(s.DeploymentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.WithdrawSerializer, responses={201: s.DeploymentEventSerializer})
    @action(detail=False, methods=["post"])
    def withdraw(self, request):
        """Take a live pointer down (owning team or governance admins; a reason is required): nothing serves
        the feature in that environment and region afterwards, and resolve answers 409 "withdrawn" there
        until a version is promoted again. Recorded as a ``withdrawn`` deployment event (``to_version`` null)."""
        serializer = s.WithdrawSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = services.deployment_withdraw(
            actor=request.user,
            feature=data["feature"],
            environment=data["environment"],
            region=data["region"],
            reason=data["reason"],
        )
        event = selectors.deployment_events_visible_to(request.user).get(pk=event.pk)
        return Response(s.DeploymentEventSerializer(event).data, status=status.HTTP_201_CREATED)


class DeploymentEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every promotion and rollback, newest first."""

    serializer_class = s.DeploymentEventSerializer
    filterset_class = DeploymentEventFilter

    def get_queryset(self):
        return selectors.deployment_events_visible_to(self.request.user)


class LiveAtView(APIView):
    """What was live for a feature, environment and region at a moment, and who approved it."""

    @extend_schema(
        parameters=[s.LiveAtQuerySerializer],
        responses={
            200: s.LiveAtSerializer,
            404: OpenApiResponse(
                description="Nothing was live for that feature, environment and region at that moment."
            ),
        },
    )
    def get(self, request):
        query = s.LiveAtQuerySerializer(data=request.query_params, context={"request": request})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        event = selectors.live_at(
            feature=data["feature"], environment=data["environment"], region=data["region"], at=data["at"]
        )
        if event is None:
            raise NotFound(
                f"Nothing was live for {data['feature'].slug} in {data['environment']}/{data['region'].code} then."
            )
        return Response(s.LiveAtSerializer(event).data)


# --- Audit -----------------------------------------------------------------------------------


class CanReadAuditTrail(permissions.BasePermission):
    message = "The audit trail is open to governance admins and auditors."

    def has_permission(self, request, view):
        return can_read_audit_trail(request.user)


class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The audit trail, newest first. Each event carries its hash and the previous one."""

    serializer_class = s.AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = BoundedCountPagination  # millions of events: counted up to 10,000
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, CanReadAuditTrail]
    lookup_field = "sequence"

    def get_queryset(self):
        return selectors.audit_events_visible_to(self.request.user)


class AuditVerificationViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Verifications of the whole chain, newest first (governance admins and auditors). POST starts one,
    run by a worker: poll the run until its ``status`` is no longer ``running``. One runs at a time (409)."""

    serializer_class = s.AuditVerificationRunSerializer
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, CanReadAuditTrail]

    def get_queryset(self):
        return AuditVerificationRun.objects.select_related("started_by").order_by("-started_at", "-id")

    @extend_schema(request=None, responses={202: s.AuditVerificationRunSerializer})
    def create(self, request):
        run = services.verification_start(actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=run.pk)).data, status=status.HTTP_202_ACCEPTED)


class ReadRecordViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who read which restricted feature, version or evidence, and when (governance admins and auditors)."""

    serializer_class = s.ReadRecordSerializer
    filterset_class = ReadRecordFilter
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, CanReadAuditTrail]

    def get_queryset(self):
        return selectors.read_records_visible_to(self.request.user)


class ReviewerGrantFilter(django_filters.FilterSet):
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    user = django_filters.CharFilter(field_name="user__username", label="Person (username)")

    class Meta:
        model = ReviewerGrant
        fields = ["feature", "user"]


class ReviewerGrantViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Who was brought into which restricted feature, why and until when. Governance grants (POST) and
    ``revoke``s; everyone who may see the feature reads its grants."""

    serializer_class = s.ReviewerGrantSerializer
    filterset_class = ReviewerGrantFilter

    def get_queryset(self):
        return selectors.reviewer_grants_visible_to(self.request.user)

    @extend_schema(request=s.ReviewerGrantCreateSerializer, responses={201: s.ReviewerGrantSerializer})
    def create(self, request):
        serializer = s.ReviewerGrantCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        grant = services.reviewer_grant_create(
            actor=request.user,
            feature=data["feature"],
            user=data["user"],
            reason=data["reason"],
            expires_at=data["expires_at"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=grant.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonOnlySerializer, responses=s.ReviewerGrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """End the grant now (governance). A reason is required."""
        grant = self.get_object()  # 404 for a grant on a feature the caller may not see, before the body
        serializer = s.ReasonOnlySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revoked = services.reviewer_grant_revoke(
            actor=request.user, grant=grant, reason=serializer.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=revoked.pk)).data)
