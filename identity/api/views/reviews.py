"""Access reviews over the API: the same services and selectors as the pages."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.idempotency import IdempotentPostMixin
from identity.api.serializers import reviews as s
from identity.reviews import selectors, services
from identity.reviews.filters import ReviewItemFilter
from identity.reviews.forms import end_of_day

STILL_OPEN = OpenApiResponse(description="The campaign is still open: it is exported once closed.")


class ApiReviewItemFilter(ReviewItemFilter):
    review = django_filters.NumberFilter(field_name="review_id", label="Campaign (id)")
    waiting = django_filters.BooleanFilter(
        method="filter_waiting", label="Only the pending items you may decide now (your queue)"
    )

    class Meta(ReviewItemFilter.Meta):
        fields = ["q", "decision", "kind", "review", "waiting"]

    def filter_waiting(self, queryset, name, value):
        if value is None:
            return queryset
        queue = selectors.queue_for(self.request.user).values("pk")
        return queryset.filter(pk__in=queue) if value else queryset.exclude(pk__in=queue)


class AccessReviewViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Access review campaigns, newest first: every one for governance admins and auditors, else those with an
    item put to you. ``POST`` starts one (governance admins; one open at a time); ``close`` closes it; the
    exports (CSV, PDF) are for governance admins and auditors once it is closed."""

    serializer_class = s.AccessReviewSerializer
    filterset_class = None

    def get_queryset(self):
        return selectors.reviews_visible_to(self.request.user)

    @extend_schema(request=s.AccessReviewStartSerializer, responses={201: s.AccessReviewSerializer})
    def create(self, request):
        """Start a campaign: every role grant and team membership of active people is put to its reviewers."""
        data = s.AccessReviewStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            review = services.access_review_start(
                actor=request.user, name=data.validated_data["name"], due_at=end_of_day(data.validated_data["due_date"])
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):
                raise
            raise ValidationError(  # the service's due_at is the API's due_date
                {
                    ("due_date" if field == "due_at" else field): messages
                    for field, messages in error.message_dict.items()
                }
            ) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.AccessReviewCloseSerializer, responses=s.AccessReviewSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the campaign (governance admins). Pending items answer 409 unless ``close_anyway``."""
        review = self.get_object()
        data = s.AccessReviewCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.access_review_close(
            actor=request.user, review=review, close_anyway=data.validated_data["close_anyway"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data)

    def _export(self, request, file_format: str):
        exported = services.access_review_export(actor=request.user, review=self.get_object(), file_format=file_format)
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["X-Content-SHA256"] = exported.sha256
        return response

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="One row per item."),
            409: STILL_OPEN,
        }
    )
    @action(detail=True, methods=["get"], url_path="export/csv", pagination_class=None, filterset_class=None)
    def export_csv(self, request, pk=None):
        """The closed campaign as CSV (409 while open). Each export is recorded in the audit trail with its SHA-256."""
        return self._export(request, "csv")

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The summary and every item, for auditors."
            ),
            409: STILL_OPEN,
        }
    )
    @action(detail=True, methods=["get"], url_path="export/pdf", pagination_class=None, filterset_class=None)
    def export_pdf(self, request, pk=None):
        """The closed campaign as PDF (409 while open). Each export is recorded in the audit trail with its SHA-256."""
        return self._export(request, "pdf")


class AccessReviewItemViewSet(
    IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Access review items, by person: every one for governance admins and auditors, else those put to you
    (``?waiting=true``: your queue). ``decide`` confirms or revokes one (a note is required to revoke);
    revoking removes the role or team membership at once."""

    serializer_class = s.AccessReviewItemSerializer
    filterset_class = ApiReviewItemFilter

    def get_queryset(self):
        return selectors.items_visible_to(self.request.user)

    @extend_schema(request=s.ItemDecisionSerializer, responses=s.AccessReviewItemSerializer)
    @action(detail=True, methods=["post"], filterset_class=None)
    def decide(self, request, pk=None):
        """Confirm or revoke. Nobody decides their own access (403 ``separation_of_duties``); a decided item or a
        closed campaign answers 409."""
        item = self.get_object()
        data = s.ItemDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.access_review_item_decide(
            actor=request.user, item=item, decision=data.validated_data["decision"], note=data.validated_data["note"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)
