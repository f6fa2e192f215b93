"""Resolve, decision and ledger representations (responses are documented; resolve's body is built by
the service for speed and matches ``ResolveSerializer``)."""

from rest_framework import serializers

from core import error_codes
from core.api.pagination import PageSerializer
from registry.choices import Environment
from routing.services import LEDGER_BATCH_LIMIT


class ResolveQuerySerializer(serializers.Serializer):
    feature = serializers.SlugField(help_text="The feature's slug.")
    region = serializers.SlugField(help_text="The region's code, e.g. eu.")
    environment = serializers.ChoiceField(choices=Environment.choices, default=Environment.PRODUCTION, required=False)


class RuleStepSerializer(serializers.Serializer):
    rule = serializers.ChoiceField(
        choices=["feature", "deployment", "residency", "hosting", "suspension", "route", "freeze", "evidence"]
    )
    subject = serializers.CharField(help_text="The model or evidence the step is about, if any.")
    outcome = serializers.ChoiceField(choices=["pass", "fail", "warn"])
    detail = serializers.CharField()


class ResolvedModelSerializer(serializers.Serializer):
    vendor = serializers.CharField()
    identifier = serializers.CharField()
    display_name = serializers.CharField()
    context_window = serializers.IntegerField()
    position = serializers.IntegerField(help_text="0 for the primary model, 1.. for fallbacks in order.")


class ResolvedFeatureSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    risk_tier = serializers.CharField()


class ResolvedVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    config_hash = serializers.CharField()
    live_since = serializers.DateTimeField(allow_null=True)


class ResolvedPromptSerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    content_hash = serializers.CharField()


class ResolvedPolicySerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()


class RefusalSerializer(serializers.Serializer):
    feature = ResolvedFeatureSerializer()
    environment = serializers.CharField()
    region = serializers.CharField()
    version = ResolvedVersionSerializer(allow_null=True)
    explanation = RuleStepSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    detail = serializers.CharField(help_text="Why nothing is eligible.")
    code = serializers.CharField(help_text=f"Always ``{error_codes.NO_ELIGIBLE_ROUTE}`` (see ``ErrorCode``).")
    operational_fallback = serializers.CharField(required=False)
    decision = serializers.CharField(
        help_text="A signed token for this answer; look it up at /api/v1/decisions/<token>/."
    )
    resolved_at = serializers.DateTimeField()


class ResolveSerializer(serializers.Serializer):
    feature = ResolvedFeatureSerializer()
    environment = serializers.CharField()
    region = serializers.CharField()
    version = ResolvedVersionSerializer()
    route = serializers.CharField(help_text="primary, or the fallback that serves (e.g. fallback 1).")
    model = ResolvedModelSerializer()
    fallbacks = ResolvedModelSerializer(many=True, help_text="Eligible fallbacks after the serving model, in order.")
    prompt = ResolvedPromptSerializer()
    policy_pack = ResolvedPolicySerializer()
    tools = serializers.ListField(child=serializers.DictField())
    parameters = serializers.DictField()
    retrieval_index = serializers.CharField()
    frozen = serializers.BooleanField(help_text="Promotions are frozen by an open SEV1/SEV2 incident.")
    explanation = RuleStepSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())
    decision = serializers.CharField(
        help_text="A signed token for this answer; look it up at /api/v1/decisions/<token>/."
    )
    resolved_at = serializers.DateTimeField()


class SignOffSummarySerializer(serializers.Serializer):
    role = serializers.CharField()
    status = serializers.CharField()
    signer = serializers.CharField(source="signer.username", allow_null=True, default=None)
    reason = serializers.CharField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ApprovalSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    gate = serializers.CharField()
    environment = serializers.CharField()
    status = serializers.CharField()
    requester = serializers.CharField(source="requester.username")
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    signoffs = SignOffSummarySerializer(many=True, source="signoffs.all")


class EvidenceSummarySerializer(serializers.Serializer):
    kind = serializers.CharField()
    suite = serializers.CharField()
    metric = serializers.CharField()
    score = serializers.FloatField()
    threshold = serializers.FloatField()
    passed = serializers.BooleanField()
    run_at = serializers.DateTimeField()


class IncidentSummarySerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    impact_start = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    url = serializers.CharField(source="get_absolute_url")


class DecisionSerializer(serializers.Serializer):
    """What served one request, read back from its decision token."""

    decided_at = serializers.DateTimeField(source="claim.at")
    outcome = serializers.SerializerMethodField()
    feature = serializers.CharField(source="feature.slug")
    environment = serializers.CharField(source="claim.environment")
    region = serializers.CharField(source="region.code")
    version = serializers.IntegerField(source="version.number", allow_null=True, default=None)
    config_hash = serializers.CharField(source="version.config_hash", allow_null=True, default=None)
    model = serializers.SerializerMethodField()
    matches_history = serializers.BooleanField(
        help_text="The deployment history agrees this version was live there at that moment."
    )
    still_live = serializers.BooleanField()
    approvals = ApprovalSummarySerializer(many=True)
    evidence = EvidenceSummarySerializer(many=True, help_text="The newest evaluation of each kind recorded by then.")
    incidents = IncidentSummarySerializer(many=True, help_text="Incidents whose impact covered that moment.")

    def get_outcome(self, view) -> str:
        return "served" if view.claim.served else "refused"

    def get_model(self, view) -> str | None:
        return f"{view.model.vendor.slug}/{view.model.identifier}" if view.model else None


class LedgerRecordInputSerializer(serializers.Serializer):
    request_id = serializers.CharField(max_length=200)
    decision = serializers.CharField(max_length=300)


class LedgerInputSerializer(serializers.Serializer):
    records = LedgerRecordInputSerializer(many=True, help_text=f"Up to {LEDGER_BATCH_LIMIT:,} records.")


class LedgerResultSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    recorded = serializers.IntegerField()
    duplicates = serializers.IntegerField(help_text="Request ids already recorded for their feature.")


class DecisionRecordSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    decision = serializers.CharField(source="token")
    feature = serializers.CharField(source="feature.slug")
    region = serializers.CharField(source="region.code")
    environment = serializers.CharField()
    version = serializers.IntegerField(source="version.number", allow_null=True, default=None)
    served = serializers.BooleanField()
    decided_at = serializers.DateTimeField()


class RouteChangeSerializer(serializers.Serializer):
    feature = serializers.CharField(source="facts.feature_slug")
    environment = serializers.CharField(source="facts.environment")
    region = serializers.CharField(source="facts.region")
    version = serializers.IntegerField(source="facts.version_number")
    serves_now = serializers.SerializerMethodField()
    serves_after = serializers.SerializerMethodField()
    changed = serializers.BooleanField()
    summary = serializers.CharField()

    def get_serves_now(self, change) -> str | None:
        return change.before.served.label if change.before.served else None

    def get_serves_after(self, change) -> str | None:
        return change.after.served.label if change.after.served else None


class RouteTotalsSerializer(serializers.Serializer):
    routes = serializers.IntegerField(help_text="Live routes through it, among the features you may see.")
    changed = serializers.IntegerField(help_text="How many of them the suspension (or reinstatement) would change.")


class RouteChangePageSerializer(PageSerializer):
    """One page of the route changes (``{"totals": ..., "results": [RouteChange, ...]}``)."""

    count = serializers.SerializerMethodField(help_text="Live routes through it (as totals.routes).")
    totals = RouteTotalsSerializer()
    results = RouteChangeSerializer(
        many=True, help_text="This page's routes: changed first, then by feature name and region."
    )


class StatusChangeInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; owners of the affected features read it.")


class StatusChangeResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    routes_changed = RouteChangeSerializer(many=True)


class DecisionExportRecordSerializer(serializers.Serializer):
    request_id = serializers.CharField()
    decided_at = serializers.DateTimeField()
    environment = serializers.CharField()
    region = serializers.CharField()
    version = serializers.IntegerField(allow_null=True, help_text="Null when nothing could serve (a refusal).")
    served = serializers.BooleanField()
    decision = serializers.CharField(help_text="The signed decision token; look it up at /api/v1/decisions/<token>/.")
    recorded_at = serializers.DateTimeField()
    recorded_by = serializers.CharField()


class DecisionExportSerializer(serializers.Serializer):
    """The JSON export (``format=json``); ``format=csv`` has the record fields as columns, in this order."""

    feature = serializers.CharField()
    exported_at = serializers.DateTimeField()
    count = serializers.IntegerField(help_text="Records in the range when the export began.")
    records = DecisionExportRecordSerializer(many=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class RoutingSnapshotEntrySerializer(serializers.Serializer):
    feature = serializers.CharField()
    region = serializers.CharField()
    environment = serializers.CharField()
    status = serializers.IntegerField(help_text="200: served; 409: refused (the answer says why).")
    answer = serializers.DictField(help_text="What resolve answers for this route, less the decision and time.")
    valid_until = serializers.DateTimeField(allow_null=True, help_text="When evidence goes stale: ask again.")
    decision = serializers.CharField(help_text="A decision token the server can look up, for the ledger.")


class RoutingSnapshotSerializer(serializers.Serializer):
    version = serializers.CharField(help_text="Changes when, and only when, an answer changes (the ETag).")
    generated_at = serializers.DateTimeField()
    entries = RoutingSnapshotEntrySerializer(many=True)
    signature = serializers.CharField(help_text="HMAC-SHA256 (hex), keyed with the SHA-256 of your token.")
