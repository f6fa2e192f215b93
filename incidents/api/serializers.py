from rest_framework import serializers

from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident, IncidentEvent
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
