"""Freshness over the API: findings and sweep runs, and a sweep on demand for governance admins."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from core import error_codes
from core.api.idempotency import IdempotentPostMixin
from freshness import selectors, services
from freshness.api import serializers as s
from freshness.filters import FindingFilter, SweepRunFilter
from registry.permissions import sees_everything


class FindingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evidence findings of live versions (open ones unless ``status=closed`` or ``status=all``),
    due soon first. Only findings of features you may see."""

    serializer_class = s.FindingSerializer
    filterset_class = FindingFilter

    def get_queryset(self):
        return selectors.findings_visible_to(self.request.user)

    def filter_queryset(self, queryset):
        # The filters (open findings by default) choose what a list shows; any visible finding, open
        # or closed, can be read by its id.
        return queryset if self.action == "retrieve" else super().filter_queryset(queryset)


class SweepRunViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Runs of the evidence freshness sweep, newest first."""

    serializer_class = s.SweepRunSerializer
    filterset_class = SweepRunFilter

    def get_queryset(self):
        return selectors.sweep_runs()

    def check_permissions(self, request):
        super().check_permissions(request)
        # A run's figures count every feature, restricted ones included. Asking for a sweep is
        # checked by the service (governance admins).
        if self.action in ("list", "retrieve") and not sees_everything(request.user):
            raise PermissionDenied("The sweep's run history is open to governance admins and auditors.")

    @extend_schema(
        request=None,
        responses={
            202: s.SweepQueuedSerializer,
            503: OpenApiResponse(description="The task queue is unreachable: nothing was queued; try again later."),
        },
    )
    def create(self, request):
        """Queue a sweep now (governance admins). The run is listed here when it finishes."""
        try:
            task_id = services.sweep_request(actor=request.user)
        except services.SweepNotQueued as error:
            return Response(
                {"detail": str(error), "code": error_codes.UNAVAILABLE},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "60"},
            )
        return Response(
            {"task_id": task_id, "detail": "Sweep queued; its run is listed when it finishes."},
            status=status.HTTP_202_ACCEPTED,
        )
