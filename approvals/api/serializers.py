from rest_framework import serializers

from approvals.choices import Decision
from approvals.models import ApprovalRequest, GatePolicy, GateRequirement, SignOff
from registry.api.serializers import UsernameField, VisibleOnlyMixin
from registry.choices import Environment
from registry.models import FeatureVersion, Region


def _visible_versions(user):
    from registry.selectors import versions_visible_to

    return versions_visible_to(user).select_related("feature")


class SignOffSerializer(serializers.ModelSerializer):
    signer = UsernameField(read_only=True)
    request = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = SignOff
        fields = ["id", "request", "role", "slot", "status", "signer", "reason", "decided_at", "created_at"]
        read_only_fields = fields


class ApprovalRequestSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(source="version.feature", slug_field="slug", read_only=True)
    version_number = serializers.IntegerField(source="version.number", read_only=True)
    regions = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    requester = UsernameField(read_only=True)
    signoffs = SignOffSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalRequest
        fields = [
            "id", "version", "feature", "version_number", "gate", "environment", "regions", "status", "requester",
            "note", "requirements", "signoffs", "created_at", "decided_at", "expires_at",
        ]
        read_only_fields = fields


class ApprovalRequestCreateSerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"version": _visible_versions}

    version = serializers.PrimaryKeyRelatedField(queryset=FeatureVersion.objects.none(), help_text="A submitted version's id.")
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
    version_number = serializers.IntegerField(source="request.version.number", read_only=True)
    gate = serializers.CharField(source="request.gate", read_only=True)
    environment = serializers.CharField(source="request.environment", read_only=True)
    requester = UsernameField(source="request.requester", read_only=True)

    class Meta:
        model = SignOff
        fields = ["id", "request", "role", "slot", "feature", "risk_tier", "version_number", "gate", "environment",
                  "requester", "created_at"]
        read_only_fields = fields


class GateRequirementSerializer(serializers.ModelSerializer):
    class Meta:
        model = GateRequirement
        fields = ["kind", "role", "count", "evidence_kind", "min_score", "max_age_days", "readiness_item"]


class GatePolicySerializer(serializers.ModelSerializer):
    requirements = GateRequirementSerializer(many=True, read_only=True)

    class Meta:
        model = GatePolicy
        fields = ["gate", "description", "review_sla_hours", "approval_valid_days", "due_soon_days",
                  "escalation_grace_days", "requirements", "updated_at"]


class GatePolicyPreviewRequestSerializer(serializers.Serializer):
    requirements = GateRequirementSerializer(many=True, help_text="The whole proposed list, as the policy lists it.")
    due_soon_days = serializers.IntegerField(min_value=0, max_value=365, required=False,
                                             help_text="The proposed due-soon setting; the current one if left out.")
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10,
                                     help_text="How many entries of each list to name (each also has its count).")

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
