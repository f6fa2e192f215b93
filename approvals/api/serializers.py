from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from approvals import selectors
from approvals.choices import Decision
from approvals.models import ApprovalRequest, GatePolicy, GateRequirement, SignOff
from registry.api.serializers import (
    UsernameField,
    VersionByNumberMixin,
    VersionFeatureField,
    VersionNumberField,
    VisibleOnlyMixin,
)
from registry.choices import Environment
from registry.models import FeatureVersion, Region


def _visible_versions(user):
    from registry.selectors import versions_visible_to

    return versions_visible_to(user).select_related("feature")


def _visible_features(user):
    from registry.selectors import features_visible_to

    return features_visible_to(user)


class SignOffSerializer(serializers.ModelSerializer):
    signer = UsernameField(read_only=True)
    request = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = SignOff
        fields = ["id", "request", "role", "slot", "status", "signer", "reason", "decided_at", "created_at"]
        read_only_fields = fields


STATES = "approval_states"


def _states(serializer, request: ApprovalRequest) -> dict:
    """The request's checks and eligible signers, computed for a whole list at once when it is one."""
    states = serializer.context.setdefault(STATES, {})
    if request.pk not in states:
        states.update(selectors.request_states([request]))
    return states[request.pk]


class RequestSignOffSerializer(SignOffSerializer):
    eligible_signers = serializers.SerializerMethodField(
        help_text="Pending sign-off of a pending request: usernames of who may still sign it (active holders of "
        "the role whom separation of duties lets sign). Empty otherwise, or when nobody may.",
    )

    class Meta(SignOffSerializer.Meta):
        fields = [*SignOffSerializer.Meta.fields, "eligible_signers"]
        read_only_fields = fields

    def get_eligible_signers(self, signoff) -> list[str]:
        return _states(self, signoff.request)["eligible"].get(signoff.pk, [])


class CheckSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["evidence", "readiness", "compliance"],
        help_text="compliance: what the feature's EU AI Act profile adds (a high-risk feature's technical file).",
    )
    key = serializers.CharField(help_text="The evaluation kind, the readiness item, or the compliance check.")
    label = serializers.CharField()
    met = serializers.BooleanField(source="ok")
    state = serializers.ChoiceField(choices=["ok", "missing", "failing", "below_minimum", "stale"])
    detail = serializers.CharField(help_text="Why it is met or not, as the review page says.")


class ApprovalRequestListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        requests = list(data.all() if hasattr(data, "all") else data)
        self.context.setdefault(STATES, {}).update(selectors.request_states(requests))
        return super().to_representation(requests)


class ApprovalRequestSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(source="version.feature", slug_field="slug", read_only=True)
    version = serializers.IntegerField(
        source="version.number", read_only=True, help_text="The version's number within its feature."
    )
    version_id = serializers.IntegerField(read_only=True, help_text="The version's id.")
    version_number = serializers.IntegerField(
        source="version.number", read_only=True, help_text="Deprecated: the same as ``version``."
    )
    regions = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    requester = UsernameField(read_only=True)
    signoffs = RequestSignOffSerializer(many=True, read_only=True)
    checks = serializers.SerializerMethodField(
        help_text="Each evidence and readiness requirement of the request's gate, checked now: met or not, and why.",
    )

    class Meta:
        model = ApprovalRequest
        list_serializer_class = ApprovalRequestListSerializer
        fields = [
            "id",
            "version",
            "version_id",
            "feature",
            "version_number",
            "gate",
            "environment",
            "regions",
            "status",
            "requester",
            "note",
            "requirements",
            "checks",
            "signoffs",
            "created_at",
            "decided_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(CheckSerializer(many=True))
    def get_checks(self, request) -> list[dict]:
        return CheckSerializer(_states(self, request)["checks"], many=True).data


class ApprovalRequestCreateSerializer(VersionByNumberMixin, VisibleOnlyMixin, serializers.Serializer):
    """The submitted version to request a gate for: ``version_id``, or ``feature`` and ``version`` (its number)."""

    visible_querysets = {"version_id": _visible_versions, "feature": _visible_features}

    version_id = serializers.PrimaryKeyRelatedField(
        source="version",
        queryset=FeatureVersion.objects.none(),
        required=False,
        help_text="A submitted version's id.",
    )
    feature = VersionFeatureField(required=False)
    version = VersionNumberField(required=False)
    environment = serializers.ChoiceField(choices=Environment.choices)
    regions = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), many=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required to reject.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class QueueItemSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(source="request.version.feature", slug_field="slug", read_only=True)
    risk_tier = serializers.CharField(source="request.version.feature.risk_tier", read_only=True)
    version = serializers.IntegerField(
        source="request.version.number", read_only=True, help_text="The version's number within its feature."
    )
    version_id = serializers.IntegerField(source="request.version_id", read_only=True, help_text="The version's id.")
    version_number = serializers.IntegerField(
        source="request.version.number", read_only=True, help_text="Deprecated: the same as ``version``."
    )
    gate = serializers.CharField(source="request.gate", read_only=True)
    environment = serializers.CharField(source="request.environment", read_only=True)
    requester = UsernameField(source="request.requester", read_only=True)

    class Meta:
        model = SignOff
        fields = [
            "id",
            "request",
            "role",
            "slot",
            "feature",
            "risk_tier",
            "version",
            "version_id",
            "version_number",
            "gate",
            "environment",
            "requester",
            "created_at",
        ]
        read_only_fields = fields


class GateRequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = GateRequirement
        fields = ["kind", "role", "count", "evidence_kind", "min_score", "max_age_days", "readiness_item"]


class GatePolicySerializer(serializers.ModelSerializer):
    requirements = GateRequirementSerializer(many=True, read_only=True)

    class Meta:
        model = GatePolicy
        fields = [
            "gate",
            "description",
            "review_sla_hours",
            "approval_valid_days",
            "due_soon_days",
            "escalation_grace_days",
            "requirements",
            "updated_at",
        ]


class GatePolicyPreviewRequestSerializer(serializers.Serializer):
    requirements = GateRequirementSerializer(many=True, help_text="The whole proposed list, as the policy lists it.")
    due_soon_days = serializers.IntegerField(
        min_value=0,
        max_value=365,
        required=False,
        help_text="The proposed due-soon setting; the current one if left out.",
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=100,
        default=10,
        help_text="How many entries of each list to name (each also has its count).",
    )

    def validate_requirements(self, value):
        return [{key: item for key, item in spec.items() if item not in ("", None)} for spec in value]


class PreviewEntrySerializer(serializers.Serializer):
    label = serializers.CharField()
    detail = serializers.CharField()
    url = serializers.CharField()


class PreviewListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    first = PreviewEntrySerializer(many=True)


class GatePolicyPreviewSerializer(serializers.Serializer):
    """What saving the proposed requirements would change (``approvals.impact.gate_policy_preview``)."""

    gate = serializers.CharField()
    governs = serializers.ListField(child=serializers.CharField())
    changes = serializers.ListField(child=serializers.CharField())
    digest = serializers.CharField()
    readiness_lost = PreviewListSerializer()
    readiness_gained = PreviewListSerializer()
    findings_opened = PreviewListSerializer()
    findings_closed = PreviewListSerializer()
    promotions_blocked = PreviewListSerializer()
    versions_held = PreviewListSerializer()
    open_requests = serializers.IntegerField(help_text="Pending and usable approved requests: they keep their rules.")
