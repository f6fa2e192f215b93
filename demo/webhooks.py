"""The demo's webhook, for ``seed_demo`` (last, so seeding itself delivers nothing): the Claims team's
release bot, subscribed to every event of the team's features. Its URL has no receiver behind it (a name
in ``.invalid`` never resolves), so the demo's delivery log shows attempts failing and being retried.
Idempotent: made once, by name."""

from collections import Counter

from django.contrib.auth import get_user_model

from registry.models import Team
from webhooks.choices import SUBSCRIBABLE_EVENTS
from webhooks.models import WebhookSubscription
from webhooks.services import subscription_create

NAME = "Claims release bot"
TARGET_URL = "https://claims-release-bot.invalid/gatehouse-events"  # never resolves (loopback is refused)


def seed_webhooks(*, created: Counter) -> None:
    if WebhookSubscription.objects.filter(name=NAME).exists():
        return
    subscription_create(
        actor=get_user_model().objects.get(username="product"), name=NAME, target_url=TARGET_URL,
        events=SUBSCRIBABLE_EVENTS, team=Team.objects.get(slug="claims"),
    )
    created["webhooks"] += 1
