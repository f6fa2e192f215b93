"""API representations. Read serializers render; write serializers only parse input for a service."""

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from registry.choices import DatasetUsage, Environment, RiskTier
from registry.models import (
    AIFeature,
    AuditEvent,
    AuditVerificationRun,
    CatalogModel,
    Dataset,
    Deployment,
    DeploymentEvent,
    Evaluation,
    FeatureChangeRequest,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    ReadRecord,
    Region,
    ReviewerGrant,
    Team,
    Vendor,
)

User = get_user_model()


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "username")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(**kwargs)

    def bind(self, field_name, parent):
        """A read-only username of a nullable user (a signer not yet known, a system actor) may be null:
        say so, so the schema documents ``null`` where the API sends it."""
        super().bind(field_name, parent)
        model = getattr(getattr(parent, "Meta", None), "model", None)
        if self.read_only and model is not None and len(self.source_attrs) == 1:
            try:
                self.allow_null = self.allow_null or model._meta.get_field(self.source_attrs[0]).null
            except FieldDoesNotExist:
                pass


class RegionCodesField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "code")
        kwargs.setdefault("many", False)
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Region.objects.all())
        super().__init__(**kwargs)


# --- Reference -------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name"]


# --- Catalog ---------------------------------------------------------------------------------


class VendorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vendor
        fields = ["id", "slug", "name", "status", "website", "notes", "created_at"]
        read_only_fields = ["id", "created_at"]


class CatalogModelSerializer(serializers.ModelSerializer):
    vendor = serializers.SlugRelatedField(slug_field="slug", queryset=Vendor.objects.all())
    regions = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), many=True)

    class Meta:
        model = CatalogModel
        fields = [
            "id",
            "vendor",
            "identifier",
            "display_name",
            "regions",
            "context_window",
            "modality",
            "status",
            "deprecation_date",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class PromptVersionSerializer(serializers.ModelSerializer):
    created_by = UsernameField(read_only=True)

    class Meta:
        model = PromptVersion
        fields = ["id", "name", "version", "template", "content_hash", "notes", "created_by", "created_at"]
        read_only_fields = ["id", "version", "content_hash", "created_by", "created_at"]


class AllowedToolSerializer(serializers.Serializer):
    tool = serializers.CharField(max_length=120)
    authorisation = serializers.CharField(max_length=120, required=False, allow_blank=True)


class PolicyPackSerializer(serializers.ModelSerializer):
    allowed_regions = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), many=True)
    safety_requirements = serializers.ListField(child=serializers.CharField(max_length=500), required=False)
    allowed_tools = AllowedToolSerializer(many=True, required=False)
    data_classifications = serializers.ListField(child=serializers.CharField(max_length=40), required=False)

    class Meta:
        model = PolicyPack
        fields = [
            "id",
            "name",
            "version",
            "description",
            "allowed_regions",
            "safety_requirements",
            "allowed_tools",
            "data_classifications",
            "created_at",
        ]
        read_only_fields = ["id", "version", "created_at"]


class DatasetSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())

    class Meta:
        model = Dataset
        fields = ["id", "name", "version", "uri", "classification", "owner", "description", "created_at"]
        read_only_fields = ["id", "created_at"]


# --- Features --------------------------------------------------------------------------------


class FeatureSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    accountable_owner = UsernameField()
    incident_owner = UsernameField()
    regions = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), many=True)
    created_by = UsernameField(read_only=True)
    change_reason = serializers.CharField(
        write_only=True, required=False, help_text="Why the feature changes (required on update)."
    )

    class Meta:
        model = AIFeature
        fields = [
            "slug",
            "name",
            "purpose",
            "team",
            "accountable_owner",
            "incident_owner",
            "escalation_path",
            "risk_tier",
            "regions",
            "intended_uses",
            "disallowed_uses",
            "data_classification",
            "slos",
            "monitors",
            "operational_fallback",
            "rollback_path",
            "stop_expansion_criteria",
            "status",
            "restricted",
            "created_by",
            "created_at",
            "updated_at",
            "change_reason",
        ]
        read_only_fields = ["created_by", "created_at", "updated_at"]
        # Uniqueness is checked by the service (and the database), not twice here.
        extra_kwargs = {"slug": {"validators": []}}


class FeatureChangeSerializer(serializers.Serializer):
    """What a change waiting for governance asks; only the parts asked are present."""

    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    restricted = serializers.BooleanField(required=False)
    regions_added = serializers.ListField(child=serializers.CharField(), required=False)
    regions_removed = serializers.ListField(child=serializers.CharField(), required=False)


class FeatureBeforeSerializer(serializers.Serializer):
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices)
    restricted = serializers.BooleanField()
    regions = serializers.ListField(child=serializers.CharField())


class FeatureChangeRequestSerializer(serializers.ModelSerializer):
    """A change that weakens a feature's governance, waiting for (or decided by) governance."""

    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    changes = FeatureChangeSerializer(read_only=True)
    before = FeatureBeforeSerializer(read_only=True, help_text="The feature's values when the change was asked.")
    requested_by = UsernameField(read_only=True)
    decided_by = UsernameField(read_only=True)

    class Meta:
        model = FeatureChangeRequest
        fields = [
            "id",
            "feature",
            "status",
            "changes",
            "before",
            "reason",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = fields


class FeatureChangeDecisionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why (required to reject; optional to approve)."
    )


class FeatureUpdateAcceptedSerializer(serializers.Serializer):
    """202: part of the edit weakens governance and waits for it; the rest, if any, applied."""

    detail = serializers.CharField()
    change_request = FeatureChangeRequestSerializer()
    feature = FeatureSerializer(help_text="The feature as it is now: other changes of the edit applied.")


# --- Versions and evidence ---------------------------------------------------------------------


class ModelRefSerializer(serializers.ModelSerializer):
    vendor = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = CatalogModel
        fields = ["id", "vendor", "identifier"]


class DatasetLinkSerializer(serializers.Serializer):
    dataset = serializers.PrimaryKeyRelatedField(queryset=Dataset.objects.all())
    usage = serializers.ChoiceField(choices=DatasetUsage.choices)


class PromptRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PromptVersion
        fields = ["id", "name", "version", "content_hash"]


class PolicyPackRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = PolicyPack
        fields = ["id", "name", "version"]


class FallbackSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    model = ModelRefSerializer()


class DatasetLinkReadSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(source="dataset_id")
    name = serializers.CharField(source="dataset.name")
    version = serializers.CharField(source="dataset.version")
    usage = serializers.ChoiceField(choices=DatasetUsage.choices)


class ToolSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    scopes = serializers.ListField(child=serializers.CharField(max_length=120), required=False, default=list)


class VersionSerializer(serializers.ModelSerializer):
    """A version and the configuration it pins."""

    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    model = ModelRefSerializer(read_only=True)
    fallback_models = FallbackSerializer(source="fallbacks", many=True, read_only=True)
    prompt = PromptRefSerializer(read_only=True)
    policy_pack = PolicyPackRefSerializer(read_only=True)
    datasets = DatasetLinkReadSerializer(source="dataset_links", many=True, read_only=True)
    tools = ToolSerializer(many=True, read_only=True)
    parameters = serializers.DictField(read_only=True)
    parent = serializers.IntegerField(source="parent.number", read_only=True, allow_null=True, default=None)
    author = UsernameField(read_only=True)
    submitted_by = UsernameField(read_only=True)

    class Meta:
        model = FeatureVersion
        fields = [
            "id",
            "feature",
            "number",
            "status",
            "model",
            "fallback_models",
            "prompt",
            "policy_pack",
            "retrieval_index",
            "tools",
            "datasets",
            "parameters",
            "parent",
            "change_summary",
            "author",
            "created_at",
            "submitted_at",
            "submitted_by",
            "config_hash",
        ]
        read_only_fields = fields


class VisibleOnlyMixin:
    """Limits relation fields to what the requesting user may see, so a hidden object and a missing one
    get the same error, word for word. ``visible_querysets`` maps field name → selector(user)."""

    visible_querysets: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        for name, selector in self.visible_querysets.items():
            if name in self.fields and not self.fields[name].read_only:
                self.fields[name].queryset = selector(request.user)


def _visible_features(user):
    from registry.selectors import features_visible_to

    return features_visible_to(user)


def _visible_prompts(user):
    from registry.selectors import prompt_list

    return prompt_list(user=user)


def _visible_datasets(user):
    from registry.selectors import dataset_list

    return dataset_list(user=user)


def _visible_versions(user):
    from registry.selectors import versions_visible_to

    return versions_visible_to(user).select_related("feature")


class VersionWriteSerializer(VisibleOnlyMixin, serializers.Serializer):
    """Input for creating a draft (``feature`` required) or changing one (every field optional)."""

    visible_querysets = {"feature": _visible_features, "prompt": _visible_prompts}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.all(), required=False)
    model = serializers.PrimaryKeyRelatedField(queryset=CatalogModel.objects.select_related("vendor"))
    fallback_models = serializers.PrimaryKeyRelatedField(
        queryset=CatalogModel.objects.select_related("vendor"),
        many=True,
        required=False,
        help_text="Catalog model ids, in order: the first is tried first.",
    )
    prompt = serializers.PrimaryKeyRelatedField(queryset=PromptVersion.objects.all())
    policy_pack = serializers.PrimaryKeyRelatedField(queryset=PolicyPack.objects.all())
    retrieval_index = serializers.CharField(max_length=200, required=False, allow_blank=True)
    tools = ToolSerializer(many=True, required=False)
    datasets = DatasetLinkSerializer(many=True, required=False)
    parameters = serializers.DictField(required=False)
    parent = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="The parent version's number."
    )
    change_summary = serializers.CharField()

    def validate_datasets(self, links):
        """A dataset that only features hidden from the caller use answers as a missing one does."""
        request = self.context.get("request")
        if request is None or not links:
            return links
        visible = set(
            _visible_datasets(request.user)
            .filter(pk__in=[link["dataset"].pk for link in links])
            .values_list("pk", flat=True)
        )
        for link in links:
            if link["dataset"].pk not in visible:
                raise serializers.ValidationError(
                    [{"dataset": [f'Invalid pk "{link["dataset"].pk}" - object does not exist.']}]
                )
        return links


VERSION_NAMING = (
    "Across the API ``version`` is a version's number within its feature (1, 2, ...) and ``version_id`` its "
    "id; ``from_version``/``to_version``/``live_version`` are numbers too."
)


class VersionNumberField(serializers.IntegerField):
    """``version``: answers the version's number; as input, a number resolved with ``feature`` by
    ``VersionByNumberMixin`` (kept apart from ``version_id`` under ``version_number``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "version_number")
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("help_text", "The version's number within its feature (send ``feature`` with it).")
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance.version.number


class VersionFeatureField(serializers.SlugRelatedField):
    """``feature``: answers the version's feature slug; as input, the feature a ``version`` number is in."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "version_feature")
        kwargs.setdefault("slug_field", "slug")
        kwargs.setdefault("queryset", AIFeature.objects.none())
        kwargs.setdefault("help_text", "The feature's slug (with ``version``, the version's number).")
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return instance.version.feature


class VersionByNumberMixin:
    """A version named by ``version_id``, or by ``feature`` and ``version`` (its number), only among those
    the user may see: a hidden version and a missing one get the same error."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        number, feature = attrs.pop("version_number", None), attrs.pop("version_feature", None)
        version = attrs.get("version")
        if version is None:
            if number is None:
                raise serializers.ValidationError(
                    {
                        "version_id": [
                            "Name the version: its id (version_id), or its feature (feature) and number (version)."
                        ]
                    }
                )
            if feature is None:
                raise serializers.ValidationError(
                    {
                        "feature": [
                            "``version`` is a version's number within its feature: name the feature too, or send version_id."
                        ]
                    }
                )
            version = _visible_versions(self.context["request"].user).filter(feature=feature, number=number).first()
            if version is None:
                raise serializers.ValidationError({"version": [f"{feature.slug} has no version {number}."]})
            attrs["version"] = version
        elif (number is not None and number != version.number) or (
            feature is not None and feature.pk != version.feature_id
        ):
            raise serializers.ValidationError(
                {"version_id": ["version_id and feature/version name different versions."]}
            )
        return attrs


class EvaluationSerializer(VersionByNumberMixin, VisibleOnlyMixin, serializers.ModelSerializer):
    visible_querysets = {"version_id": _visible_versions, "feature": _visible_features}
    version_id = serializers.PrimaryKeyRelatedField(
        source="version",
        queryset=FeatureVersion.objects.none(),
        required=False,
        help_text="The version's id.",
    )
    feature = VersionFeatureField(required=False)
    version = VersionNumberField(required=False)
    version_number = serializers.IntegerField(
        source="version.number",
        read_only=True,
        help_text="Deprecated: the same as ``version``.",
    )
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), required=False, allow_null=True
    )
    recorded_by = UsernameField(read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id",
            "version",
            "version_id",
            "feature",
            "version_number",
            "kind",
            "suite",
            "metric",
            "score",
            "threshold",
            "higher_is_better",
            "passed",
            "region",
            "language",
            "run_at",
            "artifact_url",
            "notes",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = ["id", "passed", "recorded_by", "recorded_at"]


class AuditVerificationRunSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = AuditVerificationRun
        fields = [
            "id",
            "status",
            "started_by",
            "started_at",
            "finished_at",
            "total",
            "checked",
            "first_sequence",
            "first_at",
            "last_sequence",
            "last_at",
            "head_hash",
            "checkpoints",
            "problem_count",
            "first_bad_sequence",
            "message",
            "problems",
            "notes",
        ]
        read_only_fields = fields


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "sequence",
            "at",
            "actor_name",
            "source",
            "request_id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "payload",
            "prev_hash",
            "hash",
        ]


class ReadRecordSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ReadRecord
        fields = ["id", "at", "username", "feature", "what", "object_id", "source", "request_id"]


# --- Deployments ---------------------------------------------------------------------------


class VersionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureVersion
        fields = ["id", "number", "config_hash"]


class DeploymentSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    version = VersionRefSerializer(read_only=True)
    updated_by = UsernameField(read_only=True)

    class Meta:
        model = Deployment
        fields = ["feature", "environment", "region", "version", "updated_at", "updated_by"]


class DeploymentEventSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    from_version = serializers.IntegerField(source="from_version.number", read_only=True, allow_null=True, default=None)
    to_version = serializers.IntegerField(
        source="to_version.number",
        read_only=True,
        allow_null=True,
        default=None,
        help_text="The version number live after the event; null for a withdrawal (nothing serves there).",
    )
    actor = UsernameField(read_only=True)

    class Meta:
        model = DeploymentEvent
        fields = [
            "id",
            "feature",
            "environment",
            "region",
            "kind",
            "from_version",
            "to_version",
            "actor",
            "reason",
            "approval_request_id",
            "incident_id",
            "at",
        ]


class RollbackSerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"feature": _visible_features}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.none())
    environment = serializers.ChoiceField(choices=Environment.choices)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    to_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="The version number to return to; default: the last good version that served there.",
    )
    reason = serializers.CharField()


class WithdrawSerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"feature": _visible_features}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.none())
    environment = serializers.ChoiceField(choices=Environment.choices)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    reason = serializers.CharField(help_text="Why: recorded in the history and given by resolve to callers there.")


class LiveAtQuerySerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"feature": _visible_features}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.none())
    environment = serializers.ChoiceField(choices=Environment.choices, default=Environment.PRODUCTION)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    at = serializers.DateTimeField(help_text="ISO 8601, e.g. 2026-11-23T14:02:00Z")


class LiveAtSerializer(serializers.Serializer):
    feature = serializers.CharField(source="feature.slug")
    environment = serializers.CharField()
    region = serializers.CharField(source="region.code")
    version = VersionSerializer(source="to_version")
    live_since = serializers.DateTimeField(source="at")
    made_live_by = serializers.CharField(source="actor.username")
    how = serializers.CharField(source="kind")
    approval = serializers.JSONField(source="approval_summary")


# --- Reviewer grants -------------------------------------------------------------------------


class ReviewerGrantSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = UsernameField(read_only=True)
    granted_by = UsernameField(read_only=True)
    ended_by = UsernameField(read_only=True)
    active = serializers.SerializerMethodField(help_text="In force now: not ended and not past its expiry.")

    class Meta:
        model = ReviewerGrant
        fields = [
            "id",
            "feature",
            "user",
            "reason",
            "granted_by",
            "created_at",
            "expires_at",
            "active",
            "ended_at",
            "ended_by",
            "end_reason",
        ]

    def get_active(self, grant) -> bool:
        return grant.is_active()


class ReviewerGrantCreateSerializer(VisibleOnlyMixin, serializers.Serializer):
    visible_querysets = {"feature": _visible_features}

    feature = serializers.SlugRelatedField(slug_field="slug", queryset=AIFeature.objects.none())
    user = UsernameField(help_text="The person brought in (username).")
    reason = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="When the grant ends on its own (at most 90 days ahead).")


class ReasonOnlySerializer(serializers.Serializer):
    reason = serializers.CharField()
