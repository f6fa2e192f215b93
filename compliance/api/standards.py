"""The API of the Statement of Applicability (ISO/IEC 42001 Annex A) and the NIST AI RMF crosswalk.

Everyone signed in reads (the evidence each may see); governance writes, through the same services as the
pages (``compliance.services.standards``). People are named by username.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import standards_selectors as selectors
from compliance.models import Applicability, Implementation
from compliance.services.standards import (
    GOVERNANCE_ONLY,
    control_update,
    evidence_link,
    evidence_unlink,
    statement_export,
    subcategory_update,
)
from compliance.soa_export import CONTENT_TYPES
from compliance.standards import CONTROL_IDS, ISO_CLAUSES, NIST_FUNCTIONS
from registry.permissions import is_governance


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    label = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="Its page, when you may open it.")
    added_by = serializers.CharField(source="added_by.username")
    added_at = serializers.DateTimeField()


class ControlSerializer(serializers.Serializer):
    id = serializers.CharField()
    clause = serializers.CharField(source="control.clause")
    topic = serializers.CharField(source="control.topic")
    applicability = serializers.ChoiceField(source="statement.applicability", choices=Applicability.choices)
    implementation = serializers.ChoiceField(source="statement.implementation", choices=Implementation.choices)
    justification = serializers.CharField(source="statement.justification")
    owner = serializers.CharField(source="statement.owner.username", allow_null=True, default=None)
    evidence = EvidenceSerializer(many=True)
    nist_ai_rmf = serializers.ListField(child=serializers.CharField(), source="subcategories")
    updated_by = serializers.CharField(source="statement.updated_by.username", allow_null=True, default=None)
    updated_at = serializers.DateTimeField(source="statement.updated_at", allow_null=True)


class SubcategorySerializer(serializers.Serializer):
    id = serializers.CharField()
    key = serializers.CharField(help_text="The identifier as the URL takes it (GOVERN-1.1).")
    function = serializers.CharField(source="subcategory.function")
    topic = serializers.CharField(source="subcategory.topic")
    controls = serializers.ListField(child=serializers.CharField())
    implementation = serializers.ChoiceField(source="decision.implementation", choices=Implementation.choices)
    notes = serializers.CharField(source="decision.notes")
    owner = serializers.CharField(source="decision.owner.username", allow_null=True, default=None)
    evidence = EvidenceSerializer(many=True, help_text="The evidence of its controls, each record once.")


class _Owner(serializers.Serializer):
    owner = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=150)

    def validate_owner(self, value):
        if not value:
            return None
        found = get_user_model().objects.filter(username=value, is_active=True).first()
        if found is None:
            raise serializers.ValidationError("No active person with this username.")
        return found


class ControlInput(_Owner):
    applicability = serializers.ChoiceField(choices=Applicability.choices)
    implementation = serializers.ChoiceField(choices=Implementation.choices)
    justification = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class SubcategoryInput(_Owner):
    controls = serializers.ListField(child=serializers.CharField(max_length=12), max_length=38)
    implementation = serializers.ChoiceField(choices=Implementation.choices)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")


class EvidenceInput(serializers.Serializer):
    reference = serializers.CharField(
        max_length=500, help_text="The address of the record's Gatehouse page, e.g. /features/kyc-check/versions/3/."
    )


def _governance(request) -> None:
    if not is_governance(request.user):
        raise PermissionDenied(GOVERNANCE_ONLY)


def _control(request, control_id: str):
    row = selectors.control_row(request.user, control_id) if control_id in CONTROL_IDS else None
    if row is None:
        raise Http404("No such Annex A control.")
    return row


class ControlListView(APIView):
    """The Statement of Applicability: every ISO/IEC 42001 Annex A control, its decision and evidence."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Text in the identifier, topic or justification."),
            OpenApiParameter("clause", str, enum=list(ISO_CLAUSES)),
            OpenApiParameter("applicability", str, enum=Applicability.values),
            OpenApiParameter("implementation", str, enum=Implementation.values),
        ],
        responses={200: ControlSerializer(many=True)},
    )
    def get(self, request):
        rows = selectors.control_rows(
            request.user,
            query=request.query_params.get("q", "")[:100],
            clause=request.query_params.get("clause", ""),
            applicability=request.query_params.get("applicability", ""),
            implementation=request.query_params.get("implementation", ""),
        )
        return Response(ControlSerializer(rows, many=True).data)


class ControlView(APIView):
    """One Annex A control. PUT records governance's decision (audited with what changed)."""

    @extend_schema(responses={200: ControlSerializer})
    def get(self, request, control_id):
        return Response(ControlSerializer(_control(request, control_id)).data)

    @extend_schema(request=ControlInput, responses={200: ControlSerializer})
    def put(self, request, control_id):
        row = _control(request, control_id)
        _governance(request)
        data = ControlInput(data=request.data)
        data.is_valid(raise_exception=True)
        control_update(actor=request.user, control_id=row.id, **data.validated_data)
        return Response(ControlSerializer(_control(request, control_id)).data)


class ControlEvidenceView(APIView):
    """Link a record to the control as evidence, by the address of its page."""

    @extend_schema(request=EvidenceInput, responses={201: EvidenceSerializer})
    def post(self, request, control_id):
        row = _control(request, control_id)
        _governance(request)
        data = EvidenceInput(data=request.data)
        data.is_valid(raise_exception=True)
        link = evidence_link(actor=request.user, control_id=row.id, reference=data.validated_data["reference"])
        shown = next((item for item in _control(request, control_id).evidence if item.pk == link.pk), None)
        if shown is None:  # removed again in the meantime
            raise Http404("No such evidence link.")
        return Response(EvidenceSerializer(shown).data, status=status.HTTP_201_CREATED)


class ControlEvidenceDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, control_id, pk):
        """Remove one evidence link; the record itself stays."""
        row = _control(request, control_id)
        link = next((item for item in row.evidence if item.pk == pk), None)
        if link is None:
            raise Http404("No such evidence link.")
        _governance(request)
        evidence_unlink(actor=request.user, link=link)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _subcategory(request, key: str):
    row = selectors.subcategory_row(request.user, key)
    if row is None:
        raise Http404("No such NIST AI RMF subcategory.")
    return row


class SubcategoryListView(APIView):
    """The NIST AI RMF crosswalk: each subcategory, the Annex A controls it maps to, and their evidence."""

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, description="Text in the identifier, topic or notes."),
            OpenApiParameter("function", str, enum=list(NIST_FUNCTIONS)),
            OpenApiParameter("implementation", str, enum=Implementation.values),
        ],
        responses={200: SubcategorySerializer(many=True)},
    )
    def get(self, request):
        rows = selectors.subcategory_rows(
            request.user,
            query=request.query_params.get("q", "")[:100],
            function=request.query_params.get("function", ""),
            implementation=request.query_params.get("implementation", ""),
        )
        return Response(SubcategorySerializer(rows, many=True).data)


class SubcategoryView(APIView):
    """One subcategory (``GOVERN-1.1``). PUT records governance's mapping and decision (audited)."""

    @extend_schema(responses={200: SubcategorySerializer})
    def get(self, request, key):
        return Response(SubcategorySerializer(_subcategory(request, key)).data)

    @extend_schema(request=SubcategoryInput, responses={200: SubcategorySerializer})
    def put(self, request, key):
        row = _subcategory(request, key)
        _governance(request)
        data = SubcategoryInput(data=request.data)
        data.is_valid(raise_exception=True)
        subcategory_update(actor=request.user, subcategory_id=row.id, **data.validated_data)
        return Response(SubcategorySerializer(_subcategory(request, key)).data)


class StatementExportView(APIView):
    """The Statement of Applicability with the crosswalk as a file for auditors (CSV, JSON or PDF), holding the
    evidence you may see. Each export is recorded in the audit trail with its SHA-256, also sent as
    ``X-Content-SHA256``."""

    @extend_schema(
        parameters=[OpenApiParameter("file_format", str, enum=list(CONTENT_TYPES), default="json")],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT, description="The controls and the crosswalk, with their evidence."
            ),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="One row per Annex A control."),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="Both, for auditors."),
            400: OpenApiResponse(description="A file format other than csv, json or pdf."),
        },
    )
    def get(self, request):
        exported = statement_export(actor=request.user, file_format=request.query_params.get("file_format", "json"))
        response = HttpResponse(exported.data, content_type=exported.content_type)
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        response["X-Content-SHA256"] = exported.sha256
        return response
