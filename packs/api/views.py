"""Evidence packs over the API: ask for one, follow its status, download the file. Same services as the pages."""

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.idempotency import IdempotentPostMixin
from packs import selectors, services
from packs.api import serializers as s
from packs.choices import CONTENT_TYPES, PackFormat
from packs.filters import PackExportFilter
from packs.render import HTML_DOCUMENT_POLICY
from registry.models import AIFeature, FeatureVersion
from registry.selectors import feature_detail, version_detail


class PackExportViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your evidence pack exports, newest first. Governance admins and auditors may ask for a pack of any
    feature; members of the owning team for their team's features. Restricted features others may not see
    answer 404."""

    serializer_class = s.PackExportSerializer
    filterset_class = PackExportFilter

    def get_queryset(self):
        return selectors.export_list(user=self.request.user)

    @extend_schema(request=s.PackExportCreateSerializer, responses={202: s.PackExportSerializer})
    def create(self, request):
        """Queue a pack; the answer is its status (``queued``, or already ``ready`` when the build ran at once).
        Poll ``GET /api/v1/evidence-packs/{id}/`` until ``ready`` or ``failed``, then GET ``download_url``."""
        serializer = s.PackExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            feature = feature_detail(user=request.user, slug=data["feature"])
            version = (
                version_detail(user=request.user, slug=feature.slug, number=data["version"])
                if data.get("version")
                else None
            )
        except (AIFeature.DoesNotExist, FeatureVersion.DoesNotExist):
            raise Http404("No such feature or version, or it is restricted.") from None
        export = services.pack_export_request(
            actor=request.user, feature=feature, version=version, pack_format=data["format"], kind=data["kind"]
        )
        export = self.get_queryset().get(pk=export.pk)  # as it is after the commit (built already when eager)
        return Response(self.get_serializer(export).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The pack's file (PDF, HTML or JSON); its SHA-256 is in the status."
            )
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The pack's file, once ready (409 before). Each download is recorded in the audit trail with its SHA-256."""
        export = self.get_object()
        handle = services.pack_export_download(actor=request.user, export=export)
        response = FileResponse(
            handle, as_attachment=True, filename=export.download_name, content_type=CONTENT_TYPES[export.format]
        )
        response["X-Content-SHA256"] = export.sha256
        if export.format == PackFormat.HTML:
            response["Content-Security-Policy"] = HTML_DOCUMENT_POLICY
        return response
