from rest_framework import serializers

from freshness.choices import CloseReason
from freshness.models import FreshnessFinding, SweepRun
from registry.api.serializers import UsernameField


class FindingSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.CharField(source="feature.team.slug", read_only=True)
    risk_tier = serializers.CharField(source="feature.risk_tier", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    version_id = serializers.IntegerField(read_only=True)
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
