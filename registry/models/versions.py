"""Feature versions (the release unit) and the evidence attached to them."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from registry.choices import DatasetUsage, EvaluationKind, VersionStatus


class FeatureVersion(models.Model):
    """A pinned configuration of a feature. Immutable once submitted: a change is a new version."""

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    model = models.ForeignKey("registry.CatalogModel", on_delete=models.PROTECT, related_name="primary_versions")
    fallback_models = models.ManyToManyField(
        "registry.CatalogModel", through="registry.VersionFallback", related_name="fallback_versions", blank=True
    )
    prompt = models.ForeignKey("registry.PromptVersion", on_delete=models.PROTECT, related_name="feature_versions")
    policy_pack = models.ForeignKey("registry.PolicyPack", on_delete=models.PROTECT, related_name="feature_versions")
    retrieval_index = models.CharField(max_length=200, blank=True)
    tools = models.JSONField(
        default=list, blank=True, help_text='Tools with scopes, e.g. [{"name": "crm.lookup", "scopes": ["read"]}].'
    )
    datasets = models.ManyToManyField(
        "registry.Dataset", through="registry.VersionDataset", related_name="feature_versions", blank=True
    )
    parameters = models.JSONField(default=dict, blank=True, help_text='Model parameters, e.g. {"temperature": 0.2}.')
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", help_text="Lineage."
    )
    change_summary = models.TextField(help_text="What changed and why.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_versions")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    config_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["feature", "-number"]
        indexes = [
            # The dashboard's latest submitted versions: the first eight along this index, not a sort of
            # every submitted version (20 ms at 50,000 versions).
            models.Index(fields=["status", "-submitted_at"], name="featureversion_by_status_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "number"],
                name="featureversion_unique_number_per_feature",
                violation_error_message="This feature already has a version with that number.",
            ),
            models.CheckConstraint(
                condition=models.Q(number__gte=1),
                name="featureversion_number_positive",
                violation_error_message="Version numbers start at 1.",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | (~models.Q(config_hash="") & models.Q(submitted_at__isnull=False)),
                name="featureversion_submitted_has_hash",
                violation_error_message="A submitted version must carry its configuration hash.",
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("id")),
                name="featureversion_not_own_parent",
                violation_error_message="A version cannot be its own parent.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug} v{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("registry:version_detail", args=[self.feature.slug, self.number])

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    @property
    def label(self) -> str:
        return f"v{self.number}"


class VersionFallback(models.Model):
    """An ordered fallback model of a version (position 1 is tried first)."""

    version = models.ForeignKey(FeatureVersion, on_delete=models.CASCADE, related_name="fallbacks")
    model = models.ForeignKey("registry.CatalogModel", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "position"],
                name="versionfallback_unique_position",
                violation_error_message="Two fallbacks cannot share a position.",
            ),
            models.UniqueConstraint(
                fields=["version", "model"],
                name="versionfallback_unique_model",
                violation_error_message="A model is listed as a fallback only once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} fallback {self.position}: {self.model}"


class VersionDataset(models.Model):
    """A dataset a version used, and how (training, evaluation, retrieval)."""

    version = models.ForeignKey(FeatureVersion, on_delete=models.CASCADE, related_name="dataset_links")
    dataset = models.ForeignKey("registry.Dataset", on_delete=models.PROTECT, related_name="version_links")
    usage = models.CharField(max_length=20, choices=DatasetUsage.choices)

    class Meta:
        ordering = ["version", "usage", "dataset__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "dataset", "usage"],
                name="versiondataset_unique_usage",
                violation_error_message="This dataset is already linked to the version for that use.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} uses {self.dataset} ({self.usage})"


class Evaluation(models.Model):
    """A piece of evidence about a version: a score against a threshold, measured at a time."""

    version = models.ForeignKey(FeatureVersion, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField(max_length=30, choices=EvaluationKind.choices)
    suite = models.CharField(max_length=120, help_text="The evaluation suite or review name.")
    metric = models.CharField(max_length=80)
    score = models.FloatField()
    threshold = models.FloatField()
    higher_is_better = models.BooleanField(default=True)
    passed = models.BooleanField(editable=False)
    region = models.ForeignKey(
        "registry.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="evaluations"
    )
    language = models.CharField(max_length=20, blank=True, help_text="BCP 47 tag, e.g. de-DE.")
    run_at = models.DateTimeField(help_text="When the evaluation ran.")
    artifact_url = models.URLField(max_length=500, blank=True)
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-run_at", "-id"]
        indexes = [
            models.Index(fields=["version", "kind", "-run_at"]),
            # The evidence lists (page and API) show the newest first: without it, every page sorts them all.
            models.Index(fields=["-run_at", "-id"], name="evaluation_newest_first"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(passed=True, higher_is_better=True, score__gte=models.F("threshold"))
                | models.Q(passed=True, higher_is_better=False, score__lte=models.F("threshold"))
                | models.Q(passed=False, higher_is_better=True, score__lt=models.F("threshold"))
                | models.Q(passed=False, higher_is_better=False, score__gt=models.F("threshold")),
                name="evaluation_passed_matches_score",
                violation_error_message="Passed must agree with the score and threshold.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.metric}={self.score:g} on {self.version}"

    @staticmethod
    def score_passes(*, score: float, threshold: float, higher_is_better: bool) -> bool:
        return score >= threshold if higher_is_better else score <= threshold
