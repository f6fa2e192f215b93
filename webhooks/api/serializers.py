"""Webhooks over the API. Read serializers render; write serializers only parse input for a service."""

from rest_framework import serializers

from registry.api.serializers import UsernameField
from registry.models import Team
from webhooks.choices import SUBSCRIBABLE_EVENT_CHOICES as EVENT_CHOICES
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription


class SubscriptionSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), read_only=True)
    secret_prefix = serializers.CharField(read_only=True, help_text="The secret's first characters, to tell it apart.")
    created_by = UsernameField(read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "name",
            "target_url",
            "events",
            "team",
            "active",
            "secret_prefix",
            "secret_rotated_at",
            "created_by",
            "created_at",
            "updated_at",
            "url",
        ]
        read_only_fields = fields


class SubscriptionWithSecretSerializer(SubscriptionSerializer):
    """Only in the answers to create and rotate-secret: the one time the secret is shown."""

    secret = serializers.CharField(read_only=True, help_text="Shown once: store it now.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class SubscriptionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    target_url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES), required=False)
    active = serializers.BooleanField(required=False)


class SubscriptionCreateSerializer(SubscriptionUpdateSerializer):
    name = serializers.CharField(max_length=120)
    target_url = serializers.CharField(max_length=500)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text="Events of this team's features only. Null (governance admins only): every feature.",
    )


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "at",
            "succeeded",
            "status_code",
            "error",
            "error_detail",
            "response_excerpt",
            "duration_ms",
            "request_headers",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    subscription_name = serializers.CharField(source="subscription.name", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "subscription",
            "subscription_name",
            "event",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "last_error_detail",
            "last_response_excerpt",
            "duration_ms",
            "created_at",
            "delivered_at",
            "url",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    payload = serializers.JSONField(read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "payload", "attempt_log"]
        read_only_fields = fields
