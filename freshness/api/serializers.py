from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from freshness.choices import CloseReason, FindingKind
from freshness.models import FreshnessFinding, MonitoringPlan, MonitoringReview, SweepRun
from freshness.plans import MAX_INTERVAL_DAYS, NOTE_LENGTH, REVIEWER_ROLES
from registry.api.serializers import UsernameField
from registry.choices import EvaluationKind


class FindingSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.CharField(source="feature.team.slug", read_only=True)
    risk_tier = serializers.CharField(source="feature.risk_tier", read_only=True)
    kind = serializers.ChoiceField(
        choices=FindingKind.choices,
        read_only=True,
        help_text="evidence: held to a gate's evidence rules; monitoring_plan: to the feature's monitoring plan.",
    )
    version = serializers.IntegerField(
        source="version.number", read_only=True, allow_null=True, help_text="Null for a monitoring plan's review."
    )
    version_id = serializers.IntegerField(read_only=True, allow_null=True)
    evaluation_id = serializers.IntegerField(read_only=True, allow_null=True)
    open = serializers.BooleanField(source="is_open", read_only=True)
    blocks_promotions = serializers.BooleanField(read_only=True)
    detail = serializers.CharField(source="describe", read_only=True)
    url = serializers.SerializerMethodField()
    close_reason = serializers.ChoiceField(
        choices=CloseReason.choices,
        allow_blank=True,
        read_only=True,
        help_text="Why the finding closed; empty while it is open.",
    )

    class Meta:
        model = FreshnessFinding
        fields = [
            "id",
            "feature",
            "team",
            "risk_tier",
            "kind",
            "version",
            "version_id",
            "environment",
            "gate",
            "evidence_kind",
            "state",
            "open",
            "blocks_promotions",
            "detail",
            "evaluation_id",
            "min_score",
            "max_age_days",
            "stale_at",
            "revision",
            "opened_at",
            "state_changed_at",
            "blocking_since",
            "incident_id",
            "closed_at",
            "close_reason",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, finding) -> str:
        return finding.get_absolute_url()


class SweepRunSerializer(serializers.ModelSerializer):
    requested_by = UsernameField(read_only=True)
    duration_seconds = serializers.FloatField(read_only=True)

    class Meta:
        model = SweepRun
        fields = [
            "id",
            "trigger",
            "requested_by",
            "task_id",
            "status",
            "started_at",
            "finished_at",
            "duration_seconds",
            "deployments_checked",
            "versions_checked",
            "findings_opened",
            "findings_updated",
            "findings_closed",
            "open_findings",
            "notifications",
            "escalations",
            "error",
        ]
        read_only_fields = fields


class SweepQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    detail = serializers.CharField()


class PlanEvaluationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvaluationKind.choices)
    interval_days = serializers.IntegerField(min_value=1, max_value=MAX_INTERVAL_DAYS)


class MonitoringPlanSerializer(serializers.ModelSerializer):
    """A feature's monitoring plan as it stands, with when the next review is due and its open findings."""

    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    reviewer = UsernameField(read_only=True)
    reviewer_role = serializers.CharField(read_only=True, help_text="Empty when a person is named.")
    evaluations = PlanEvaluationSerializer(many=True, read_only=True)
    next_review_due = serializers.DateTimeField(source="review_due_at", read_only=True)
    created_by = UsernameField(read_only=True)
    updated_by = UsernameField(read_only=True)
    open_findings = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringPlan
        fields = [
            "feature",
            "monitors",
            "notes",
            "reviewer",
            "reviewer_role",
            "review_interval_days",
            "evaluations",
            "last_reviewed_at",
            "next_review_due",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "open_findings",
            "url",
        ]
        read_only_fields = fields

    @extend_schema_field(FindingSerializer(many=True))
    def get_open_findings(self, plan) -> list:
        from freshness.selectors import plan_findings

        return FindingSerializer(plan_findings(plan.feature).select_related("feature__team"), many=True).data

    def get_url(self, plan) -> str:
        return plan.get_absolute_url()


class MonitoringPlanInputSerializer(serializers.Serializer):
    monitors = serializers.ListField(
        child=serializers.CharField(max_length=500), help_text="Links among the feature's monitors."
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_LENGTH)
    reviewer = UsernameField(required=False, allow_null=True, default=None, help_text="A person's username, or")
    reviewer_role = serializers.ChoiceField(
        choices=REVIEWER_ROLES, required=False, allow_blank=True, default="", help_text="a role (not both)."
    )
    review_interval_days = serializers.IntegerField(min_value=1, max_value=MAX_INTERVAL_DAYS)
    evaluations = PlanEvaluationSerializer(many=True, required=False, default=list)
    reason = serializers.CharField(max_length=2000, help_text="Why the plan is made or changed (audited).")

    def validate_evaluations(self, value):
        kinds = [item["kind"] for item in value]
        if len(kinds) != len(set(kinds)):
            raise serializers.ValidationError("Name each evaluation kind once.")
        return value


class MonitoringReviewInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=NOTE_LENGTH, help_text="What the monitoring showed and what follows.")


class MonitoringReviewSerializer(serializers.ModelSerializer):
    reviewed_by = UsernameField(read_only=True)
    next_review_due = serializers.DateTimeField(source="plan.review_due_at", read_only=True)

    class Meta:
        model = MonitoringReview
        fields = ["id", "reviewed_at", "reviewed_by", "note", "next_review_due"]
        read_only_fields = fields
