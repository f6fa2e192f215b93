"""MLflow tracking servers Gatehouse reads, what it imports from them, and the drift it finds.

A server belongs to a team (or, with no team, to governance). Its token is stored encrypted (or named by
an environment variable and never stored); its webhook secret is encrypted too. A *link* says which
MLflow registered model feeds which Gatehouse feature, which catalog model serves it, and which alias
(``champion``) deploys it. *Lineage* ties each imported draft version
to the MLflow model version it came from, once: importing again finds it and does nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.encryption import EncryptedTextField
from registry.choices import Environment, EvaluationKind


class MlflowServer(models.Model):
    name = models.CharField(max_length=120)
    url = models.URLField(max_length=300, help_text="The tracking server, e.g. https://mlflow.example.internal")
    team = models.ForeignKey(
        "registry.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="mlflow_servers",
        help_text="The team that owns it; empty: governance's, for every team.",
    )
    token = EncryptedTextField(blank=True, help_text="Sent as a bearer token (user:password for basic auth).")
    token_env = models.CharField(
        max_length=100, blank=True, help_text="Or: the environment variable of the Gatehouse workers holding it."
    )
    webhook_secret = EncryptedTextField(blank=True)
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Imports act as this person, with their permissions.",
    )
    active = models.BooleanField(default=True)
    import_prompts = models.BooleanField(
        default=False, help_text="Import the versions of MLflow's prompt registry into the catalog's prompts."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "MLflow server"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("connectors:server_detail", args=[self.pk])


class MlflowModelLink(models.Model):
    """An MLflow registered model that feeds a feature: each of its versions becomes a draft version."""

    server = models.ForeignKey(MlflowServer, on_delete=models.CASCADE, related_name="links")
    model_name = models.CharField(max_length=256, help_text="The registered model's name in MLflow.")
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.CASCADE, related_name="mlflow_links")
    catalog_model = models.ForeignKey(
        "registry.CatalogModel",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The catalog's entry for this model (governance approves models); each imported version serves "
        "it, with the MLflow version in its parameters.",
    )
    alias = models.CharField(
        max_length=100, blank=True, help_text="The MLflow alias that deploys it, e.g. champion; empty: no drift check."
    )
    environment = models.CharField(max_length=20, choices=Environment.choices, default=Environment.PRODUCTION)
    created_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["model_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "model_name", "feature"],
                name="mlflow_link_once",
                violation_error_message="That model already feeds that feature from this server.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_name} → {self.feature}"


class MetricMapping(models.Model):
    """A run metric that becomes an evaluation of the imported version."""

    link = models.ForeignKey(MlflowModelLink, on_delete=models.CASCADE, related_name="mappings")
    metric = models.CharField(max_length=250)
    kind = models.CharField(max_length=30, choices=EvaluationKind.choices, help_text="The evaluation kind it becomes.")
    threshold = models.FloatField()
    higher_is_better = models.BooleanField(default=True)

    class Meta:
        ordering = ["metric"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "metric"], name="mlflow_metric_once", violation_error_message="That metric is mapped."
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric} → {self.kind}"


class MlflowLineage(models.Model):
    """Where an imported version came from: once per MLflow model version and link."""

    version = models.OneToOneField("registry.FeatureVersion", on_delete=models.CASCADE, related_name="mlflow_lineage")
    link = models.ForeignKey(MlflowModelLink, on_delete=models.CASCADE, related_name="lineages")
    model_version = models.CharField(max_length=50)
    run_id = models.CharField(max_length=100, blank=True)
    source = models.CharField(max_length=1000, blank=True)
    logged_model_id = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["link", "model_version"],
                name="mlflow_lineage_once",
                violation_error_message="That MLflow version is already imported.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.link.model_name} v{self.model_version}"


class MlflowPromptLineage(models.Model):
    """A catalog prompt version imported from MLflow's prompt registry: once per server, prompt and version."""

    prompt_version = models.OneToOneField(
        "registry.PromptVersion", on_delete=models.CASCADE, related_name="mlflow_lineage"
    )
    server = models.ForeignKey(MlflowServer, on_delete=models.CASCADE, related_name="prompt_lineages")
    name = models.CharField(max_length=256)
    mlflow_version = models.CharField(max_length=50)
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "name", "mlflow_version"],
                name="mlflow_prompt_once",
                violation_error_message="That MLflow prompt version is already imported.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.mlflow_version}"


class DriftFinding(models.Model):
    """MLflow's deploying alias points at a model version Gatehouse has not approved and made live."""

    link = models.ForeignKey(MlflowModelLink, on_delete=models.CASCADE, related_name="drift_findings")
    feature = models.ForeignKey("registry.AIFeature", on_delete=models.CASCADE, related_name="drift_findings")
    alias = models.CharField(max_length=100)
    mlflow_version = models.CharField(max_length=50)
    live_version = models.ForeignKey(
        "registry.FeatureVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.TextField()
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["link"],
                condition=models.Q(closed_at__isnull=True),
                name="drift_one_open_per_link",
                violation_error_message="This link already has an open drift finding.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature}: @{self.alias} → v{self.mlflow_version}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
