"""Drills and impact analysis over the API: the same services and selectors as the pages."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from drills import selectors, services
from drills.api import serializers as s
from drills.choices import IMPACT_KINDS
from drills.filters import DrillRunFilter
from drills.impact import ENTRY_MODELS, impact_of
from drills.permissions import require_drill_reader

API_KINDS = {api_kind: kind for kind, api_kind in IMPACT_KINDS.items()}


class DrillRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Saved drills, newest first (governance admins, security reviewers and auditors). Each report lists
    only the features you may see. ``POST`` runs a drill against every live route and saves it
    (governance admins): nothing live changes."""

    filterset_class = DrillRunFilter

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.drill_runs_visible_to(self.request.user)
        return selectors.drill_run_list(user=self.request.user)

    def get_serializer_class(self):
        return s.DrillRunSerializer if self.action == "list" else s.DrillRunDetailSerializer

    def check_permissions(self, request):
        super().check_permissions(request)
        if self.action in ("list", "retrieve"):
            require_drill_reader(request.user)

    @extend_schema(request=s.DrillInputSerializer, responses={201: s.DrillRunDetailSerializer})
    def create(self, request):
        data = s.DrillInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.drill_run(actor=request.user, **data.validated_data)
        return Response(s.DrillRunDetailSerializer(run, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class ImpactView(APIView):
    """What depends on a catalog entry: the features, versions and live deployments (environment, region,
    version) that use a vendor's models, a model (primary or fallback), a prompt version, a policy pack or
    a dataset. Only features you may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(API_KINDS)),
            OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="The entry's id (a vendor also by its slug)."),
        ],
        responses=s.ImpactSerializer,
    )
    def get(self, request, kind: str, key: str):
        if kind not in API_KINDS:
            raise NotFound(f"Unknown kind '{kind}': choose one of {', '.join(API_KINDS)}.")
        entry_kind = API_KINDS[kind]
        model = ENTRY_MODELS[entry_kind]
        lookup = {"pk": int(key)} if key.isdigit() else ({"slug": key} if entry_kind == "vendor" else None)
        if lookup is None:
            raise NotFound(f"No {kind} has the id '{key}'.")
        entry = get_object_or_404(model, **lookup)
        impact = impact_of(user=request.user, kind=entry_kind, entry=entry)
        return Response(s.ImpactSerializer(impact, context={"api_kind": kind, "key": key}).data)
