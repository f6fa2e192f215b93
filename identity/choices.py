from django.db import models


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ReviewItemKind(models.TextChoices):
    ROLE = "role", "Role grant"
    TEAM = "team", "Team membership"


class ReviewDecision(models.TextChoices):
    PENDING = "pending", "Awaiting review"
    CONFIRMED = "confirmed", "Confirmed"
    REVOKED = "revoked", "Revoked"
    NOT_REVIEWED = "not_reviewed", "Not reviewed"  # still pending when governance closed the campaign
