"""Incidents over the API: the same services as the pages; alert intake for Alertmanager."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IdempotentPostMixin
from incidents import selectors, services
from incidents.api import serializers as s
from incidents.filters import IncidentFilter
from incidents.forms import moment_from
from incidents.reports import DRAFT_KINDS
from registry.api.scopes import ALERT_INTAKE
from registry.api.serializers import DeploymentEventSerializer


class IncidentViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Incidents, each with the version that was live when it began."""

    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilter

    def get_queryset(self):
        return selectors.incidents_visible_to(self.request.user).select_related("reporter")

    @extend_schema(request=s.IncidentCreateSerializer, responses={201: s.IncidentSerializer})
    def create(self, request):
        serializer = s.IncidentCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        incident = services.incident_open(actor=request.user, **serializer.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=incident.pk)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=s.TransitionSerializer, responses=s.IncidentSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        incident = self.get_object()  # 404 for an incident the user may not see, before reading the body
        serializer = s.TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = services.incident_transition(actor=request.user, incident=incident, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=incident.pk)).data)

    @extend_schema(request=s.CommentSerializer, responses={201: s.IncidentEventSerializer})
    @action(detail=True, methods=["post"])
    def comment(self, request, pk=None):
        incident = self.get_object()  # 404 for an incident the user may not see, before reading the body
        serializer = s.CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.incident_comment(actor=request.user, incident=incident, body=serializer.validated_data["body"])
        return Response(s.IncidentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentRollbackSerializer, responses={201: DeploymentEventSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        incident = self.get_object()  # 404 for an incident the user may not see, before reading the body
        serializer = s.IncidentRollbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        to_version = None
        if serializer.validated_data.get("to_version"):
            to_version = incident.feature.versions.filter(number=serializer.validated_data["to_version"]).first()
            if to_version is None:
                raise ValidationError({"to_version": [f"{incident.feature.slug} has no such version."]})
        event = services.incident_rollback(
            actor=request.user, incident=incident, to_version=to_version, reason=serializer.validated_data["reason"]
        )
        return Response(DeploymentEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.IncidentEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filterset_class=None)
    def timeline(self, request, pk=None):
        return Response(
            s.IncidentEventSerializer(selectors.incident_timeline(incident=self.get_object()), many=True).data
        )

    # --- Serious incidents -----------------------------------------------------------------------

    def _status(self, incident):
        incident = self.get_queryset().select_related("serious_decided_by").get(pk=incident.pk)
        return Response(s.SeriousStatusSerializer(incident).data)

    @extend_schema(methods=["get"], responses=s.SeriousStatusSerializer)
    @extend_schema(methods=["post"], request=s.SeriousMarkSerializer, responses=s.SeriousStatusSerializer)
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def serious(self, request, pk=None):
        """Whether the incident is serious (EU AI Act Art. 3(49)), the report's clock (Art. 73) and the
        reports sent. POST marks it serious, or changes the decision (its workers and governance)."""
        incident = self.get_object()
        if request.method == "POST":
            serializer = s.SeriousMarkSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            incident = services.incident_mark_serious(
                actor=request.user, incident=incident, **serializer.validated_data
            )
        return self._status(incident)

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=list(DRAFT_KINDS), description="initial (default) or complete"),
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="The moment of the record (default: now)."),
        ],
        responses={
            200: s.ReportDraftSerializer,
            409: OpenApiResponse(description="The incident is not marked serious: there is no report to draft."),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="report-draft",
        url_name="report-draft",
        pagination_class=None,
        filterset_class=None,
    )
    def report_draft(self, request, pk=None):
        """The draft of a serious incident's report to the authority, made from the record as of ``as_of``,
        and its SHA-256 (that of the page's JSON download). 409 when the incident is not serious."""
        incident = self.get_object()
        kind = request.query_params.get("kind", "initial")
        if kind not in DRAFT_KINDS:
            raise ValidationError({"kind": ["Ask for the initial or the complete draft."]})
        as_of = None
        if request.query_params.get("as_of"):
            as_of = moment_from(request.query_params["as_of"])
            if as_of is None:
                raise ValidationError({"as_of": ["Give an ISO 8601 date and time."]})
        content, sha256 = services.incident_report_draft(incident=incident, kind=kind, as_of=as_of)
        return Response({"kind": kind, "as_of": content["as_of"], "sha256": sha256, "content": content})

    @extend_schema(methods=["get"], responses=s.ReportSubmissionSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.ReportSubmissionCreateSerializer, responses={201: s.ReportSubmissionSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def submissions(self, request, pk=None):
        """The reports sent to the authority. POST records one: Gatehouse keeps the draft sent (as of
        ``as_of``) and its SHA-256; a complete report stops the clock."""
        incident = self.get_object()
        if request.method == "POST":
            serializer = s.ReportSubmissionCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            submission = services.incident_record_submission(
                actor=request.user, incident=incident, **serializer.validated_data
            )
            return Response(s.ReportSubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)
        return Response(
            s.ReportSubmissionSerializer(selectors.incident_submission_list(incident=incident), many=True).data
        )

    @extend_schema(methods=["get"], responses=s.EvidenceSnapshotSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.SnapshotCreateSerializer, responses={201: s.EvidenceSnapshotDetailSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def snapshots(self, request, pk=None):
        """The incident's evidence snapshots, newest first (a rollback from a serious incident takes one).
        POST takes one now."""
        incident = self.get_object()
        if request.method == "POST":
            serializer = s.SnapshotCreateSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            snapshot = services.incident_snapshot_evidence(
                actor=request.user, incident=incident, note=serializer.validated_data["note"]
            )
            return Response(s.EvidenceSnapshotDetailSerializer(snapshot).data, status=status.HTTP_201_CREATED)
        return Response(
            s.EvidenceSnapshotSerializer(
                selectors.incident_snapshots(incident=incident).defer("content"), many=True
            ).data
        )

    @extend_schema(
        parameters=[OpenApiParameter("snapshot", int, OpenApiParameter.PATH)],
        responses=s.EvidenceSnapshotDetailSerializer,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"snapshots/(?P<snapshot>[0-9]+)",
        url_name="snapshot-detail",
        pagination_class=None,
        filterset_class=None,
    )
    def snapshot_detail(self, request, pk=None, snapshot=None):
        """One evidence snapshot, as it was taken (``content``, whose SHA-256 is ``content_sha256``)."""
        incident = self.get_object()
        found = selectors.incident_snapshots(incident=incident).filter(pk=snapshot).first()
        if found is None:
            raise NotFound("No such evidence snapshot.")
        return Response(s.EvidenceSnapshotDetailSerializer(found).data)


class AlertmanagerWebhookView(IdempotentPostMixin, APIView):
    """Prometheus Alertmanager webhook. Authenticate with a Bearer token (Alertmanager's
    ``authorization`` setting). Labels ``feature``, ``region`` (and ``environment``, ``severity``)
    name what is affected; one incident per alert fingerprint, however often it is delivered.

    Only a token with the ``alert_intake`` scope posts here (no session, no other scope): an alert can
    open a SEV1 and freeze promotions, so the right to raise one is given to Alertmanager on purpose."""

    token_scopes = {"post": {ALERT_INTAKE}}
    token_scopes_exclusive = True

    @extend_schema(
        request=s.AlertmanagerPayloadSerializer,
        responses=s.AlertOutcomeSerializer(many=True),
        auth=[{"bearerAuth": []}],
    )  # an alert_intake token; a session is refused
    def post(self, request):
        serializer = s.AlertmanagerPayloadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcomes = services.alertmanager_ingest(actor=request.user, payload=request.data)
        return Response(s.AlertOutcomeSerializer(outcomes, many=True).data)
