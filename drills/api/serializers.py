from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.pagination import PageSerializer
from drills import selectors
from drills.choices import MAX_DAYS, DrillKind, Outcome
from drills.models import DrillRun
from registry.models import CatalogModel, Region, Vendor


class DrillInputSerializer(serializers.Serializer):
    """The scenario and its subject: ``vendor`` (slug) for vendor_unavailable, ``model`` (id) for
    model_suspended, ``region`` (code) for region_lost, ``days`` for evidence_aged."""

    kind = serializers.ChoiceField(choices=DrillKind.choices)
    vendor = serializers.SlugRelatedField(
        slug_field="slug", queryset=Vendor.objects.all(), required=False, allow_null=True
    )
    model = serializers.PrimaryKeyRelatedField(
        queryset=CatalogModel.objects.select_related("vendor"), required=False, allow_null=True
    )
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), required=False, allow_null=True
    )
    days = serializers.IntegerField(min_value=1, max_value=MAX_DAYS, required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class FiguresSerializer(serializers.Serializer):
    total = serializers.IntegerField(help_text="Live routes decided (among the features you may see).")
    lost = serializers.IntegerField(help_text="Routes that would have no eligible model (resolve answers 409).")
    moved = serializers.IntegerField(help_text="Routes that would be served by a fallback instead.")
    warned = serializers.IntegerField(help_text="Routes that keep their model with fewer fallbacks or new warnings.")
    features = serializers.IntegerField(help_text="Features with at least one affected route.")


class RouteSerializer(serializers.Serializer):
    route = serializers.CharField(help_text="primary, or fallback N")
    model = serializers.CharField(help_text="vendor/identifier")


class RowSerializer(serializers.Serializer):
    feature = serializers.CharField(source="feature_slug")
    feature_name = serializers.CharField()
    risk_tier = serializers.CharField()
    environment = serializers.CharField()
    region = serializers.CharField()
    version = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    summary = serializers.CharField()
    serves_now = RouteSerializer(allow_null=True)
    serves_after = RouteSerializer(allow_null=True, help_text="null: no eligible route (resolve answers 409).")
    fallbacks_after = serializers.ListField(child=serializers.CharField())
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why no route is left (when lost).")
    warnings = serializers.ListField(child=serializers.CharField(), help_text="Warnings resolve would add.")
    still_served_in = serializers.ListField(
        child=serializers.CharField(), help_text="Other regions where the feature keeps a route (same environment)."
    )


class PlaceSerializer(serializers.Serializer):
    environment = serializers.CharField()
    region = serializers.CharField()
    loses = serializers.IntegerField()
    moves = serializers.IntegerField()
    warned = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    routes = RowSerializer(many=True, help_text="Affected routes, losses first.")
    places = PlaceSerializer(many=True, help_text="Affected routes per environment and region.")
    refused_before = serializers.IntegerField(help_text="Routes that already had no eligible route.")
    note = serializers.CharField(help_text="What the outcome means for this kind of drill.")
    hidden = serializers.BooleanField(help_text="Some routes are left out: features you may not see.")

    def to_representation(self, report):
        return {
            "routes": RowSerializer([row for group in report.groups for row in group["rows"]], many=True).data,
            "places": PlaceSerializer(report.places, many=True).data,
            "refused_before": report.refused_before,
            "note": report.evidence_note,
            "hidden": report.hidden,
        }


class DrillRunSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True)
    figures = serializers.SerializerMethodField()

    class Meta:
        model = DrillRun
        fields = ["id", "kind", "title", "parameters", "note", "author", "created_at", "figures"]

    @extend_schema_field(FiguresSerializer)
    def get_figures(self, run):
        return selectors.run_figures(run, user=self.context["request"].user)


class DrillRunDetailSerializer(DrillRunSerializer):
    report = serializers.SerializerMethodField()

    class Meta(DrillRunSerializer.Meta):
        fields = [*DrillRunSerializer.Meta.fields, "report"]

    @extend_schema_field(ReportSerializer)
    def get_report(self, run):
        return ReportSerializer(selectors.report_for(run, user=self.context["request"].user)).data


# --- Impact -------------------------------------------------------------------------------------


class ImpactDeploymentSerializer(serializers.Serializer):
    feature = serializers.CharField(source="feature.slug")
    environment = serializers.CharField()
    region = serializers.CharField(source="region.code")
    version = serializers.IntegerField(source="version.number")
    live_since = serializers.DateTimeField(source="updated_at")


class ImpactVersionSerializer(serializers.Serializer):
    feature = serializers.CharField(source="feature.slug")
    number = serializers.IntegerField()
    status = serializers.CharField()
    uses = serializers.ListField(child=serializers.CharField(), help_text="How this version depends on the entry.")


class ImpactFeatureSerializer(serializers.Serializer):
    slug = serializers.CharField(source="feature.slug")
    name = serializers.CharField(source="feature.name")
    team = serializers.CharField(source="feature.team.name")
    risk_tier = serializers.CharField(source="feature.risk_tier")
    versions = serializers.SerializerMethodField()
    live = ImpactDeploymentSerializer(many=True)

    def get_versions(self, impact) -> list[int]:
        return [version.number for version in impact.versions]


class ImpactEntrySerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.CharField()
    name = serializers.CharField()


class ImpactTotalsSerializer(serializers.Serializer):
    features = serializers.IntegerField(help_text="Features that depend on it (as count).")
    versions = serializers.IntegerField(help_text="Their versions that depend on it.")
    deployments = serializers.IntegerField(help_text="The live deployments of those versions.")


class ImpactSerializer(PageSerializer):
    """One page of the features that depend on the entry, by name; the totals over all of them."""

    count = serializers.SerializerMethodField(help_text="Features that depend on it, on every page.")
    entry = serializers.SerializerMethodField()
    totals = ImpactTotalsSerializer()
    results = ImpactFeatureSerializer(many=True, source="features", help_text="This page's features, by name.")
    versions = ImpactVersionSerializer(many=True, help_text="The versions of this page's features that depend on it.")
    deployments = ImpactDeploymentSerializer(many=True, help_text="The live deployments of those versions.")

    @extend_schema_field(ImpactEntrySerializer)
    def get_entry(self, impact):
        return {"kind": self.context["api_kind"], "id": str(self.context["key"]), "name": str(impact.entry)}
