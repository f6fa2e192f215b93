"""Freshness over the API: findings and sweep runs, and a sweep on demand for governance admins."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core import error_codes
from core.api.idempotency import IdempotentPostMixin
from core.views import found_or_404
from freshness import plans, selectors, services
from freshness.api import serializers as s
from freshness.filters import FindingFilter, SweepRunFilter
from registry.permissions import sees_everything
from registry.selectors import features_visible_to


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


class PlanMixin:
    """The feature the URL names among those you may see (404 otherwise), and its monitoring plan."""

    @found_or_404("No such feature.")
    def feature(self):
        return features_visible_to(self.request.user).filter(slug=self.kwargs["slug"]).first()

    def plan(self):
        return selectors.plan_of(self.feature)

    def existing_plan(self):
        plan = self.plan()
        if plan is None:
            raise NotFound("This feature has no monitoring plan yet.")
        return plan


class MonitoringPlanView(PlanMixin, APIView):
    """A feature's post-market monitoring plan: its monitors (among the feature's), the evaluation kinds run
    again on every live production version and how often, who reviews and how often. The freshness sweep
    opens ``monitoring_plan`` findings when it is not kept. Read: whoever may see the feature; made or
    replaced (PUT): the feature's team and governance admins, audited."""

    @extend_schema(
        responses={200: s.MonitoringPlanSerializer, 404: OpenApiResponse(description="No such feature, or no plan.")}
    )
    def get(self, request, slug: str):
        return Response(s.MonitoringPlanSerializer(self.existing_plan()).data)

    @extend_schema(
        request=s.MonitoringPlanInputSerializer,
        responses={200: s.MonitoringPlanSerializer, 201: s.MonitoringPlanSerializer},
    )
    def put(self, request, slug: str):
        feature = self.feature
        if not plans.can_edit_plan(request.user, feature):
            raise PermissionDenied(
                f"Only the {feature.team} team and governance admins may change {feature}'s monitoring plan."
            )
        data = s.MonitoringPlanInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        existed = self.plan() is not None
        plan = plans.plan_save(
            actor=request.user,
            feature=feature,
            reason=values["reason"],
            monitors=values["monitors"],
            notes=values["notes"],
            reviewer=values["reviewer"],
            reviewer_role=values["reviewer_role"],
            review_interval_days=values["review_interval_days"],
            evaluations={item["kind"]: item["interval_days"] for item in values["evaluations"]},
        )
        return Response(
            s.MonitoringPlanSerializer(plan).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


class MonitoringReviewView(IdempotentPostMixin, PlanMixin, APIView):
    """Record a review of what the feature's monitoring shows (the plan's reviewer), audited: the next is due
    a review interval from now, and an overdue review's finding closes."""

    @extend_schema(request=s.MonitoringReviewInputSerializer, responses={201: s.MonitoringReviewSerializer})
    def post(self, request, slug: str):
        plan = self.existing_plan()
        if not plans.can_record_review(request.user, plan):
            raise PermissionDenied(f"Only the plan's reviewer ({plan.reviewer_label}) records its reviews.")
        data = s.MonitoringReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = plans.review_record(actor=request.user, plan=plan, note=data.validated_data["note"])
        return Response(s.MonitoringReviewSerializer(review).data, status=status.HTTP_201_CREATED)
