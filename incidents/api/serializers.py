from rest_framework import serializers

from incidents.choices import IncidentStatus, ReportKind, SeriousCriterion, Severity
from incidents.models import EvidenceSnapshot, Incident, IncidentEvent, ReportSubmission
from incidents.reports import DRAFT_KINDS
from registry.api.serializers import UsernameField, VisibleOnlyMixin, _visible_features
from registry.choices import Environment
from registry.models import AIFeature, Region


class IncidentEventSerializer(serializers.ModelSerializer):
    actor = UsernameField(read_only=True)
    deployment_event = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = IncidentEvent
        fields = ["id", "kind", "actor", "body", "payload", "deployment_event", "at"]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    live_version = serializers.IntegerField(source="live_version.number", read_only=True, allow_null=True, default=None)
    owner = UsernameField(read_only=True)
    reporter = UsernameField(read_only=True)
    # Empty until a postmortem is written: a plain string, since "" is not a URI.
    postmortem_url = serializers.CharField(read_only=True)
    is_serious = serializers.BooleanField(read_only=True, help_text="Marked serious (EU AI Act Art. 3(49)).")
    report_due_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When the report to the authority is due (Art. 73)."
    )
    report_overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "feature",
            "environment",
            "region",
            "severity",
            "status",
            "impact_start",
            "detected_at",
            "live_version",
            "owner",
            "reporter",
            "description",
            "customer_impact",
            "root_cause",
            "follow_ups",
            "postmortem_url",
            "source",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "created_at",
            "is_serious",
            "aware_at",
            "report_due_at",
            "report_overdue",
            "report_completed_at",
        ]
        read_only_fields = fields


class IncidentCreateSerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"feature": _visible_features}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.none())
    environment = serializers.ChoiceField(choices=Environment.choices, default=Environment.PRODUCTION)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    severity = serializers.ChoiceField(choices=Severity.choices)
    impact_start = serializers.DateTimeField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    customer_impact = serializers.CharField(required=False, allow_blank=True, default="")


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=IncidentStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    root_cause = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    follow_ups = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    postmortem_url = serializers.URLField(required=False, allow_blank=True, allow_null=True, default=None)


class CommentSerializer(serializers.Serializer):
    body = serializers.CharField()


class IncidentRollbackSerializer(serializers.Serializer):
    to_version = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="Version number; default: the last good version."
    )
    reason = serializers.CharField()


class AlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[("firing", "firing"), ("resolved", "resolved")])
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    startsAt = serializers.DateTimeField(required=False)
    endsAt = serializers.CharField(required=False, allow_blank=True)
    fingerprint = serializers.CharField(max_length=120)
    generatorURL = serializers.CharField(required=False, allow_blank=True)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """The Alertmanager webhook body (version 4). Extra fields are ignored."""

    version = serializers.CharField(required=False)
    status = serializers.CharField(required=False)
    receiver = serializers.CharField(required=False, allow_blank=True)
    alerts = AlertSerializer(many=True, allow_empty=False)


class AlertOutcomeSerializer(serializers.Serializer):
    fingerprint = serializers.CharField()
    result = serializers.CharField()
    incident = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)


# --- Serious incidents: status, report drafts, submissions, evidence snapshots -------------------


class ReportSubmissionSerializer(serializers.ModelSerializer):
    submitted_by = UsernameField(read_only=True)

    class Meta:
        model = ReportSubmission
        fields = [
            "id",
            "kind",
            "authority",
            "submitted_at",
            "submitted_by",
            "reference",
            "note",
            "as_of",
            "content_sha256",
            "recorded_at",
        ]
        read_only_fields = fields


class SeriousStatusSerializer(serializers.ModelSerializer):
    """Whether the incident is serious, the report's clock, and the reports sent so far."""

    reference = serializers.CharField(read_only=True)
    is_serious = serializers.BooleanField(read_only=True)
    criteria = serializers.ListField(
        source="serious_criteria", child=serializers.ChoiceField(choices=SeriousCriterion.choices), read_only=True
    )
    death = serializers.BooleanField(source="serious_death", read_only=True)
    widespread = serializers.BooleanField(source="serious_widespread", read_only=True)
    report_days = serializers.IntegerField(read_only=True, allow_null=True)
    report_due_at = serializers.DateTimeField(read_only=True, allow_null=True)
    report_overdue = serializers.BooleanField(read_only=True)
    clock_running = serializers.BooleanField(source="report_clock_running", read_only=True)
    decided_by = UsernameField(source="serious_decided_by", read_only=True)
    decided_at = serializers.DateTimeField(source="serious_decided_at", read_only=True, allow_null=True)
    submissions = ReportSubmissionSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "is_serious",
            "criteria",
            "death",
            "widespread",
            "aware_at",
            "report_days",
            "report_due_at",
            "report_overdue",
            "clock_running",
            "report_completed_at",
            "decided_by",
            "decided_at",
            "submissions",
        ]
        read_only_fields = fields


class SeriousMarkSerializer(serializers.Serializer):
    criteria = serializers.ListField(child=serializers.ChoiceField(choices=SeriousCriterion.choices), allow_empty=False)
    death = serializers.BooleanField(required=False, default=False)
    widespread = serializers.BooleanField(required=False, default=False)
    aware_at = serializers.DateTimeField(help_text="When you became aware the incident is serious.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReportDraftSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in DRAFT_KINDS])
    as_of = serializers.DateTimeField()
    sha256 = serializers.CharField(help_text="SHA-256 of the draft's JSON file (the page's download).")
    content = serializers.JSONField(help_text="The draft, made from the record as of ``as_of``.")


class ReportSubmissionCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    authority = serializers.CharField(max_length=200)
    submitted_at = serializers.DateTimeField()
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    as_of = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="The moment of the draft you sent (default: now)."
    )
    draft_sha256 = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text="The SHA-256 of the draft you sent: refused (409) if the record changed since.",
    )


class EvidenceSnapshotSerializer(serializers.ModelSerializer):
    taken_by = UsernameField(read_only=True)

    class Meta:
        model = EvidenceSnapshot
        fields = ["id", "taken_at", "taken_by", "trigger", "note", "content_sha256"]
        read_only_fields = fields


class EvidenceSnapshotDetailSerializer(EvidenceSnapshotSerializer):
    content = serializers.JSONField(read_only=True)

    class Meta(EvidenceSnapshotSerializer.Meta):
        fields = [*EvidenceSnapshotSerializer.Meta.fields, "content"]
        read_only_fields = fields


class SnapshotCreateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
