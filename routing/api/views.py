"""The router's endpoint and support's lookups."""

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.idempotency import IdempotentPostMixin
from core.api.pagination import PAGE_PARAMETERS, PageNumberPagination
from core.views import found_or_404
from registry.api.scopes import RESOLVE
from registry.choices import Environment
from registry.selectors import features_visible_to
from routing import export as decision_export
from routing import selectors, services, snapshot, tokens
from routing.api import serializers as s
from routing.auth import CachedBearerTokenAuthentication
from routing.engine import UnknownTarget
from routing.panels import catalog_entry, visible_changes

ENVIRONMENTS = frozenset(Environment.values)


class ResolveView(APIView):
    """Which configuration serves a feature in a region: the hot path of a router.

    200: the live version's configuration, the model that serves (the primary, or the first eligible
    fallback when the primary may not serve there), the eligible fallbacks after it, each rule applied
    and its outcome, and a signed ``decision`` token. 409: nothing is eligible; the body says why.
    404: unknown feature or region.
    """

    authentication_classes = [CachedBearerTokenAuthentication, SessionAuthentication]
    token_scopes = {"get": {RESOLVE}}

    @extend_schema(
        parameters=[s.ResolveQuerySerializer],
        responses={
            200: s.ResolveSerializer,
            404: OpenApiResponse(description="Unknown feature or region."),
            409: OpenApiResponse(s.RefusalSerializer, description="No eligible route; the reasons."),
        },
    )
    def get(self, request):
        params = request.query_params
        feature, region = params.get("feature", "").strip(), params.get("region", "").strip()
        environment = params.get("environment", "").strip() or Environment.PRODUCTION
        errors = {}
        if not feature:
            errors["feature"] = ["Give the feature's slug: ?feature=<slug>."]
        if not region:
            errors["region"] = ["Give the region's code: &region=<code>."]
        if environment not in ENVIRONMENTS:
            errors["environment"] = [f"Choose one of: {', '.join(sorted(ENVIRONMENTS))}."]
        if errors:
            raise ValidationError(errors)
        try:
            answer = services.resolve(
                user=request.user,
                feature_slug=feature,
                region_code=region,
                environment=environment,
                stamps=getattr(request, "routing_stamps", None),
            )
        except UnknownTarget as unknown:
            raise NotFound(str(unknown)) from None
        response = HttpResponse(answer.body, status=answer.status, content_type="application/json")
        response["Cache-Control"] = "no-store"
        return response


class SnapshotView(APIView):
    """Every live route's decision for the features you may resolve, to answer from in a router's own
    process: each entry is what resolve would answer now, with its decision token and ``valid_until``.

    ``version`` changes only when an answer does and is the ``ETag``: send it back in ``If-None-Match``
    and an unchanged snapshot answers 304 with no body. ``signature`` is an HMAC-SHA256 of the canonical
    JSON (sorted keys, no spaces) of ``version``, ``generated_at`` and ``entries``, keyed with the SHA-256
    (hex) of your API token."""

    token_scopes = {"get": {RESOLVE}}

    @extend_schema(
        responses={
            200: s.RoutingSnapshotSerializer,
            304: OpenApiResponse(description="Unchanged since the version named in If-None-Match."),
        },
        parameters=[
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="The version (ETag) you hold.")
        ],
    )
    def get(self, request):
        document = snapshot.unsigned(request.user)
        etag = f'"{document["version"]}"'
        held = [item.strip() for item in request.headers.get("If-None-Match", "").split(",")]
        if etag in held or document["version"] in held:
            response = HttpResponse(status=status.HTTP_304_NOT_MODIFIED)  # nothing to sign or send
        else:
            body = snapshot.signed_body(document, snapshot.signature_key(request.auth))
            response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        response["Cache-Control"] = "no-store"
        return response


class DecisionView(APIView):
    """What served the request a decision token was given for: the version and model, who approved it
    on what evidence, and any incident whose impact covered that moment."""

    authentication_classes = [CachedBearerTokenAuthentication, SessionAuthentication]
    token_scopes = {"get": {RESOLVE}}

    @extend_schema(
        responses={
            200: s.DecisionSerializer,
            400: OpenApiResponse(description="Not a decision token."),
            404: OpenApiResponse(description="Unknown or hidden feature."),
        }
    )
    def get(self, request, token: str):
        try:
            claim = tokens.read(token)
        except tokens.BadToken as bad:
            raise ValidationError({"token": [str(bad)]}) from None
        view = selectors.decision_view(claim, user=request.user)
        if view is None:
            raise NotFound("The decision names a feature that does not exist or that you may not see.")
        return Response(s.DecisionSerializer(view).data)


class DecisionRecordListView(APIView):
    """Ledger records for one of your request ids (``?request_id=``)."""

    token_scopes = {"get": {RESOLVE}}

    @extend_schema(
        parameters=[OpenApiParameter("request_id", str, required=True, description="Your request id.")],
        responses=s.DecisionRecordSerializer(many=True),
    )
    def get(self, request):
        request_id = request.query_params.get("request_id", "").strip()
        if not request_id:
            raise ValidationError({"request_id": ["Give the request id: ?request_id=<id>."]})
        records = selectors.ledger_records(user=request.user, request_id=request_id)[:100]
        return Response(s.DecisionRecordSerializer(records, many=True).data)


class LedgerView(IdempotentPostMixin, APIView):
    """Record request id → decision token pairs in bulk (up to 10,000 per call, all or none)."""

    token_scopes = {"post": {RESOLVE}}  # the router records which decision served which request

    @extend_schema(request=s.LedgerInputSerializer, responses={201: s.LedgerResultSerializer})
    def post(self, request):
        records = request.data.get("records") if isinstance(request.data, dict) else None
        if not isinstance(records, list) or not all(isinstance(record, dict) for record in records):
            raise ValidationError({"records": ['Send {"records": [{"request_id": ..., "decision": ...}, ...]}.']})
        result = services.ledger_record(actor=request.user, records=records)
        return Response(result, status=status.HTTP_201_CREATED)


class CatalogRoutesMixin:
    kind = "vendor"

    def entry(self, key):
        return catalog_entry(self.kind, key)


class CatalogRoutesView(CatalogRoutesMixin, APIView):
    """The live routes through a vendor's models (or a model), and what suspending it (reinstating it,
    if suspended) would do to each: keep serving, move to a fallback, or lose its route. Paginated like
    every list, changed routes first; ``totals`` counts the routes and the changed ones (every route is
    judged for them, from plain rows; only the page's rows are built). Only features you may see."""

    @extend_schema(parameters=PAGE_PARAMETERS, responses=s.RouteChangePageSerializer)
    def get(self, request, key):
        routes = visible_changes(request.user, self.entry(key), self.kind)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(routes, request, view=self)
        totals = {"routes": len(routes), "changed": routes.changed}
        return Response(
            s.RouteChangePageSerializer({"totals": totals, "results": page}, context={"paginator": paginator}).data
        )


class CatalogStatusView(IdempotentPostMixin, CatalogRoutesMixin, APIView):
    """Suspend or reinstate (governance admins); audited with the routes it changed."""

    action = "suspend"

    @extend_schema(request=s.StatusChangeInputSerializer, responses=s.StatusChangeResultSerializer)
    def post(self, request, key):
        data = s.StatusChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entry, changes = services.catalog_status_change(
            actor=request.user,
            suspend=self.action == "suspend",
            reason=data.validated_data["reason"],
            **{self.kind: self.entry(key)},
        )
        return Response(s.StatusChangeResultSerializer({"status": entry.status, "routes_changed": changes}).data)


class DecisionExportView(APIView):
    """A feature's decision ledger for a range of UTC days (``from`` and ``to`` included, at most 366 days),
    as CSV or JSON, streamed: for the deployer's own records. The feature's team, governance admins and
    auditors; 404 for a feature you may not see. Each export is audited (``decisions.exported``)."""

    @found_or_404("No such feature.")
    def feature(self):
        return features_visible_to(self.request.user).filter(slug=self.kwargs["slug"]).first()

    def perform_content_negotiation(self, request, force=False):
        # ``format`` chooses the file, not the renderer: an unknown one is a 400 from the range check.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True, description="First UTC day, YYYY-MM-DD."),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True, description="Last UTC day (included)."),
            OpenApiParameter("format", str, enum=list(decision_export.FORMATS), description="csv (default) or json."),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="One row per record, with a header."),
            (200, "application/json"): s.DecisionExportSerializer,
            400: OpenApiResponse(
                description="A missing or wrong day, a range backwards or too long, a format unknown."
            ),
            403: OpenApiResponse(description="You may see the feature but not export its log."),
            404: OpenApiResponse(description="No such feature, or one you may not see."),
        },
    )
    def get(self, request, slug: str):
        feature = self.feature
        if not decision_export.can_export_decisions(request.user, feature):
            raise PermissionDenied(decision_export.REFUSAL.format(team=feature.team, feature=feature))
        params = request.query_params
        export = decision_export.decisions_export(
            actor=request.user,
            feature=feature,
            export=decision_export.export_range(
                first=params.get("from", ""), last=params.get("to", ""), fmt=params.get("format", "csv")
            ),
        )
        response = StreamingHttpResponse(export.stream(), content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
