"""API of the gates: the same services as the pages, so every rule holds for machines too."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals import impact, selectors, services
from approvals.api import serializers as s
from approvals.filters import ApprovalRequestFilter, QueueFilter
from approvals.permissions import can_manage_gates
from core.api.idempotency import IdempotentPostMixin
from registry.api.scopes import CI_WRITE
from registry.api.serializers import DeploymentEventSerializer


class ApprovalRequestViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Gate requests. POST to request a gate; ``promote`` and ``withdraw`` act on one."""

    token_scopes = {"create": {CI_WRITE}, "promote": {CI_WRITE}, "withdraw": {CI_WRITE}}

    serializer_class = s.ApprovalRequestSerializer
    filterset_class = ApprovalRequestFilter

    def get_queryset(self):
        return (
            selectors.requests_visible_to(self.request.user)
            .select_related("version__feature__incident_owner")
            .prefetch_related("signoffs__signer")
        )

    @extend_schema(request=s.ApprovalRequestCreateSerializer, responses={201: s.ApprovalRequestSerializer})
    def create(self, request):
        serializer = s.ApprovalRequestCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = services.approval_request_create(
            actor=request.user,
            version=data["version"],
            environment=data["environment"],
            regions=data["regions"],
            note=data["note"],
        )
        return Response(
            self.get_serializer(self.get_queryset().get(pk=created.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.ReasonSerializer, responses={201: DeploymentEventSerializer(many=True)})
    @action(detail=True, methods=["post"], pagination_class=None, filterset_class=None)
    def promote(self, request, pk=None):
        """Make the approved version live in the request's environment and regions (owner or CI token)."""
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        events = services.promotion_execute(
            actor=request.user, request=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return Response(DeploymentEventSerializer(events, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ReasonSerializer, responses=s.ApprovalRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        serializer = s.ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        withdrawn = services.approval_request_withdraw(
            actor=request.user, request=self.get_object(), reason=serializer.validated_data["reason"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=withdrawn.pk)).data)


class QueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Pending sign-offs for the roles the caller holds, oldest first."""

    serializer_class = s.QueueItemSerializer
    filterset_class = QueueFilter

    def get_queryset(self):
        return selectors.queue_for(self.request.user)


class SignOffViewSet(IdempotentPostMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.SignOffSerializer
    filterset_class = None

    def get_queryset(self):
        return selectors.signoffs_visible_to(self.request.user)

    @extend_schema(request=s.DecisionSerializer, responses=s.SignOffSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve or reject (a reason is required to reject). Separation of duties applies."""
        signoff = self.get_object()  # 404 for a sign-off the user may not see, before reading the body
        serializer = s.DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        signed = services.signoff_decide(
            actor=request.user,
            signoff=signoff,
            decision=serializer.validated_data["decision"],
            reason=serializer.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=signed.pk)).data)


class GatePolicyViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.GatePolicySerializer
    filterset_class = None
    lookup_field = "gate"

    def get_queryset(self):
        return selectors.gate_policies()

    @extend_schema(request=s.GatePolicyPreviewRequestSerializer, responses=s.GatePolicyPreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, gate=None):
        """What replacing this gate's requirements would do, saving nothing (governance admins): features whose
        readiness changes, live deployments that would get findings, approved promotions that would be
        blocked, versions that would need more evidence. Each list is a count and its first ``limit`` entries."""
        policy = self.get_object()
        if not can_manage_gates(request.user):
            raise PermissionDenied("Only governance admins change gate policies.")
        serializer = s.GatePolicyPreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = impact.gate_policy_preview(
            user=request.user,
            policy=policy,
            requirements=serializer.validated_data["requirements"],
            due_soon_days=serializer.validated_data.get("due_soon_days"),
            limit=serializer.validated_data["limit"],
        )
        return Response(s.GatePolicyPreviewSerializer(found).data)
