from rest_framework import serializers

from readiness.choices import ReadinessCheck


class ReadinessItemSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=ReadinessCheck.choices)
    label = serializers.CharField()
    ok = serializers.BooleanField()
    detail = serializers.CharField()


class FeatureReadinessSerializer(serializers.Serializer):
    """A feature's readiness checklist now, and the sentence that states it."""

    feature = serializers.CharField(source="feature.slug")
    name = serializers.CharField(source="feature.name")
    team = serializers.CharField(source="feature.team.slug")
    risk_tier = serializers.CharField(source="feature.risk_tier")
    restricted = serializers.BooleanField(source="feature.restricted")
    live = serializers.BooleanField(help_text="Live in production in at least one region.")
    live_regions = serializers.SerializerMethodField()
    ready = serializers.BooleanField()
    ok_count = serializers.IntegerField()
    total = serializers.IntegerField()
    score = serializers.FloatField(help_text="Share of the checklist in place, 0 to 1.")
    missing = serializers.ListField(child=serializers.ChoiceField(choices=ReadinessCheck.choices))
    sentence = serializers.CharField()
    items = ReadinessItemSerializer(many=True)
    url = serializers.SerializerMethodField()

    def get_live_regions(self, readiness) -> list[str]:
        return [route.region for route in readiness.routes]

    def get_url(self, readiness) -> str:
        from django.urls import reverse

        return reverse("readiness:feature", args=[readiness.feature.slug])


class SnapshotSerializer(serializers.Serializer):
    day = serializers.DateField()
    ready = serializers.BooleanField()
    live = serializers.BooleanField()
    ok_count = serializers.IntegerField()
    total = serializers.IntegerField()
    score = serializers.FloatField()
    items = serializers.DictField(child=serializers.BooleanField(), help_text="Checklist item → in place.")
    sentence = serializers.CharField()


class EvaluationPointSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    score = serializers.FloatField()
    threshold = serializers.FloatField()
    passed = serializers.BooleanField()
    version = serializers.IntegerField()
    suite = serializers.CharField()
    metric = serializers.CharField()


class FeatureHistorySerializer(serializers.Serializer):
    feature = serializers.CharField()
    snapshots = SnapshotSerializer(many=True, help_text="One per day, oldest first.")
    evaluations = serializers.DictField(
        child=EvaluationPointSerializer(many=True), help_text="Evaluation kind → its scores over time, oldest first."
    )


class InventoryDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    features = serializers.IntegerField(help_text="Features snapshotted that day (that you may see).")
    ready = serializers.IntegerField()
    mean_score = serializers.FloatField()
