"""Drills and impact analysis over the API: the same services and selectors as the pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IdempotentPostMixin
from core.api.pagination import PAGE_PARAMETERS, CountedPagination
from drills import selectors, services
from drills.api import serializers as s
from drills.filters import DrillRunFilter
from drills.impact import API_KINDS, UnknownEntry, find_entry, impact_features, impact_of, impact_totals
from drills.permissions import require_drill_reader


class DrillRunViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
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
        return Response(
            s.DrillRunDetailSerializer(run, context={"request": request}).data, status=status.HTTP_201_CREATED
        )


class ImpactView(APIView):
    """What depends on a catalog entry: the features, versions and live deployments (environment, region,
    version) that use a vendor's models, a model (primary or fallback), a prompt version, a policy pack or
    a dataset. Only features you may see.

    Paginated by feature, by name, like every list (``?page=``, ``?page_size=``): ``results`` are the
    page's features, ``versions`` and ``deployments`` those of the page's features only; ``count`` and
    ``totals`` count every dependent feature, version and live deployment."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=list(API_KINDS)),
            OpenApiParameter(
                "key",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                description="The entry's id (a vendor also by its slug).",
            ),
            *PAGE_PARAMETERS,
        ],
        responses=s.ImpactSerializer,
    )
    def get(self, request, kind: str, key: str):
        try:
            entry_kind, entry = find_entry(kind, key)
        except UnknownEntry as unknown:
            raise NotFound(str(unknown)) from None
        lookup = {"user": request.user, "kind": entry_kind, "entry": entry}
        totals = impact_totals(**lookup)
        paginator = CountedPagination(totals.features)
        features = paginator.paginate_queryset(impact_features(**lookup), request, view=self)
        impact = impact_of(**lookup, features=features, totals=totals)
        return Response(s.ImpactSerializer(impact, context={"api_kind": kind, "key": key, "paginator": paginator}).data)
