"""A saved drill: what was asked, by whom and when, and what the resolve engine answered."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from drills.choices import DrillKind


class DrillRun(models.Model):
    """A drill's report, kept as it was computed: the registry moves on, the report does not.

    ``result`` holds the affected routes (``rows``) and, per feature, how many routes were unaffected
    (``unaffected``), so the report can be restricted to the features each reader may see."""

    kind = models.CharField(max_length=30, choices=DrillKind.choices)
    parameters = models.JSONField(default=dict, help_text='The scenario\'s subject, e.g. {"vendor": "anthropic"}.')
    title = models.CharField(max_length=200)
    note = models.TextField(blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drill_runs")
    created_at = models.DateTimeField()
    routes_total = models.PositiveIntegerField(default=0)
    routes_lost = models.PositiveIntegerField(default=0)
    routes_moved = models.PositiveIntegerField(default=0)
    routes_warned = models.PositiveIntegerField(default=0)
    features_affected = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "-created_at"], name="drill_kind_created_idx")]

    def __str__(self) -> str:
        return f"Drill #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("drills:run_detail", args=[self.pk])
