"""Readiness history: one snapshot per feature per day, written by the daily beat task."""

from django.db import models


class ReadinessSnapshot(models.Model):
    """A feature's checklist as it stood on one day. Taking the day's snapshot again replaces it."""

    feature = models.ForeignKey("registry.AIFeature", on_delete=models.CASCADE, related_name="readiness_snapshots")
    day = models.DateField()
    items = models.JSONField(default=dict, help_text="Checklist item → true (in place) or false (missing).")
    ok_count = models.PositiveSmallIntegerField()
    total = models.PositiveSmallIntegerField()
    score = models.FloatField(help_text="Share of the checklist in place, 0 to 1.")
    ready = models.BooleanField()
    live = models.BooleanField(help_text="Live in production that day.")
    sentence = models.TextField(blank=True)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "feature"]
        indexes = [models.Index(fields=["day", "feature"])]
        constraints = [
            models.UniqueConstraint(
                fields=["feature", "day"],
                name="readinesssnapshot_one_per_feature_and_day",
                violation_error_message="This feature already has a readiness snapshot for that day.",
            ),
            models.CheckConstraint(
                condition=models.Q(ok_count__lte=models.F("total")) & models.Q(score__gte=0) & models.Q(score__lte=1),
                name="readinesssnapshot_score_in_range",
                violation_error_message="A snapshot's score is between 0 and 1 and its count at most the total.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature_id} on {self.day}: {self.ok_count}/{self.total}"

    @property
    def missing(self) -> list[str]:
        return [key for key, ok in self.items.items() if not ok]
