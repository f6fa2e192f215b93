"""Readiness over the API: the inventory, one feature's checklist, and history. Features you may see only."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from core.views import found_or_404
from readiness import selectors
from readiness.api import serializers as s
from readiness.choices import HISTORY_DAYS
from readiness.filters import ReadinessFilter
from readiness.views import ReadinessMixin
from registry.selectors import features_visible_to


class InventoryView(generics.ListAPIView):
    """Every feature's readiness, filtered like the Readiness page (``state=not_ready``, ``missing=monitor``,
    ``team``, ``tier``, ``q``), by name, paginated."""

    serializer_class = s.FeatureReadinessSerializer
    filterset_class = ReadinessFilter

    def get_queryset(self):
        return features_visible_to(self.request.user).order_by("name")

    def list(self, request, *args, **kwargs):
        filterset, rows = selectors.inventory(user=request.user, data=request.query_params, request=request)
        if filterset.is_bound and not filterset.is_valid():
            from rest_framework.exceptions import ValidationError

            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class FeatureReadinessView(ReadinessMixin, generics.GenericAPIView):
    serializer_class = s.FeatureReadinessSerializer
    filter_backends = []
    pagination_class = None

    @extend_schema(responses=s.FeatureReadinessSerializer)
    def get(self, request, slug: str):
        """One feature's readiness checklist now and the sentence that states it."""
        return Response(self.get_serializer(self.readiness).data)


class FeatureHistoryView(APIView):
    @found_or_404("No such feature.")
    def feature(self):
        return features_visible_to(self.request.user).filter(slug=self.kwargs["slug"]).first()

    @extend_schema(
        responses=s.FeatureHistorySerializer,
        parameters=[
            OpenApiParameter("days", int, description=f"How many days back (default {HISTORY_DAYS}, at most 730).")
        ],
    )
    def get(self, request, slug: str):
        """A feature's daily readiness snapshots and its evaluation scores over time, per kind."""
        feature = self.feature
        days = _days(request)
        body = {
            "feature": feature.slug,
            "snapshots": list(selectors.feature_history(feature=feature, days=days)),
            "evaluations": selectors.evaluation_series(feature=feature),
        }
        return Response(s.FeatureHistorySerializer(body).data)


class InventoryHistoryView(APIView):
    @extend_schema(
        responses=s.InventoryDaySerializer(many=True),
        parameters=[
            OpenApiParameter("days", int, description=f"How many days back (default {HISTORY_DAYS}, at most 730).")
        ],
    )
    def get(self, request):
        """Per day: how many of the features you may see were ready, and their mean readiness."""
        return Response(
            s.InventoryDaySerializer(selectors.history(user=request.user, days=_days(request)), many=True).data
        )


def _days(request) -> int:
    raw = request.query_params.get("days", "")
    if not raw:
        return HISTORY_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= 730:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({"days": "A whole number of days from 1 to 730."})
    return int(raw)
