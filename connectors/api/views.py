"""The connectors' API: importing one MLflow version on a pipeline's request."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors import services
from connectors.mlflow_api import MlflowError
from core import error_codes
from registry.api.scopes import CI_WRITE
from registry.api.serializers import VersionSerializer


class MlflowImportInput(serializers.Serializer):
    model_uri = serializers.CharField(help_text="models:/<registered model>/<version number>")
    feature = serializers.SlugField(
        required=False, allow_blank=True, help_text="When the model feeds several features."
    )


class MlflowImportView(APIView):
    """Import one MLflow model version now as a draft version of the feature its model is linked to (the
    same import as a sync: lineage, mapped metrics as evaluations). 201 with the new version; 200 with the
    version made before when it was imported already; 503 ``unavailable`` when MLflow does not answer."""

    token_scopes = {"post": {CI_WRITE}}

    @extend_schema(
        request=MlflowImportInput,
        responses={
            200: VersionSerializer,
            201: VersionSerializer,
            503: inline_serializer(
                "MlflowUnavailable", {"detail": serializers.CharField(), "code": serializers.CharField()}
            ),
        },
    )
    def post(self, request):
        data = MlflowImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            imported = services.import_model_uri(
                actor=request.user,
                model_uri=data.validated_data["model_uri"],
                feature_slug=data.validated_data.get("feature", ""),
            )
        except MlflowError as error:
            return Response(
                {"detail": str(error), "code": error_codes.UNAVAILABLE},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "30"},
            )
        body = VersionSerializer(imported.version, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED if imported.created else status.HTTP_200_OK)
