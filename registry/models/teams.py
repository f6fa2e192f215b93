from django.contrib.auth.models import Group
from django.db import models
from django.urls import reverse


class Team(models.Model):
    """A team owns features. Its Django group holds the members who may edit those features."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="team")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("registry:feature_list") + f"?team={self.slug}"
