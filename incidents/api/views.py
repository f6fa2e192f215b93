"""Incidents over the API: the same services as the pages; alert intake for Alertmanager."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IdempotentPostMixin
from incidents import selectors, services
from incidents.api import serializers as s
from incidents.filters import IncidentFilter
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
