from django.db import models


class DrillKind(models.TextChoices):
    VENDOR_UNAVAILABLE = "vendor_unavailable", "Vendor unavailable"
    MODEL_SUSPENDED = "model_suspended", "Model suspended"
    REGION_LOST = "region_lost", "Region lost"
    EVIDENCE_AGED = "evidence_aged", "Evidence older by N days"


class Outcome(models.TextChoices):
    """What a drill does to one live route (feature, environment, region)."""

    LOSES = "loses", "Loses its route"
    MOVES = "moves", "Moves to a fallback"
    WARNED = "warned", "Keeps its route, with warnings"


OUTCOME_HELP = {
    Outcome.LOSES: "Resolve would answer 409 here: neither the primary model nor any fallback is eligible.",
    Outcome.MOVES: "Resolve would still answer, from the first eligible fallback instead of the model serving now.",
    Outcome.WARNED: "The same model keeps serving, but with fewer eligible fallbacks or new warnings.",
}

MAX_DAYS = 3650  # ten years: further out every piece of evidence is stale anyway

# Catalog kinds whose impact is analysed: the catalog page's ``entry`` name -> the API's kind.
IMPACT_KINDS = {"vendor": "vendor", "model": "model", "prompt": "prompt", "policy": "policy-pack", "dataset": "dataset"}
