"""The demo's post-market monitoring plans, for ``seed_demo`` (after the releases, before the sweep).

1. Claims triage (high risk, live in production): the Claims team's plan, five weeks ago. Its two monitors;
   benchmarks run again every 30 days and safety every 30 days on the live production version; Hannah
   Becker (legal) reviews every 30 days. She recorded a review last week. The sweep that ends the seeding
   holds the live version to it, so the feature page and the freshness dashboard show what is due.
2. KYC document check (regulated, restricted, not yet in production): the Payments & Risk team's plan,
   two weeks ago, reviewed by any governance admin every 30 days; it applies from the first production
   release.

Everything goes through the services. Idempotent: a feature that has a plan is left as it is.
"""

from __future__ import annotations

from collections import Counter

from django.contrib.auth import get_user_model

from freshness.models import MonitoringPlan
from freshness.plans import plan_save, review_record
from registry.models import AIFeature

PLANS = [
    {
        "feature": "claims-triage",
        "by": "product",
        "when": (25, "10:30"),
        "reviewer": "legal",
        "review_interval_days": 30,
        "evaluations": {"benchmark": 30, "safety": 30},
        "notes": "Weekly: triage queue sizes per category against the four-week mean (alert above 25 %), the share "
        "of handler overrides, and complaints that mention triage. An override share above 15 % for a week "
        "calls for a benchmark run on recent claims and the accountable owner's decision.",
        "review": (
            (4, "15:00"),
            "Dashboards for the past month reviewed: override share 6-8 %, no queue alert, two "
            "complaints (both about response times, not triage). Nothing to act on.",
        ),
    },
    {
        "feature": "kyc-document-check",
        "by": "product2",
        "when": (10, "11:00"),
        "reviewer_role": "governance",
        "review_interval_days": 30,
        "evaluations": {"benchmark": 30, "red_team": 90, "bias": 90},
        "notes": "Tamper recall on the monthly labelled sample, the share of documents sent to the manual queue, "
        "and field accuracy by document origin. Recall below 95 % stops expansion (see the feature).",
    },
]


def plan_monitoring(agenda, clock, *, created: Counter) -> None:
    for spec in PLANS:
        agenda.add(clock.workday(*spec["when"]), lambda spec=spec: make_plan(spec, created=created))
        if spec.get("review"):
            moment, note = spec["review"]
            agenda.add(clock.workday(*moment), lambda spec=spec, note=note: review(spec, note, created=created))


def make_plan(spec: dict, *, created: Counter) -> None:
    User = get_user_model()
    feature = AIFeature.objects.filter(slug=spec["feature"]).first()
    if feature is None or MonitoringPlan.objects.filter(feature=feature).exists():
        return
    plan_save(
        actor=User.objects.get(username=spec["by"]),
        feature=feature,
        reason="Post-market monitoring plan (EU AI Act Art. 72).",
        monitors=feature.monitor_links,
        notes=spec["notes"],
        reviewer=User.objects.get(username=spec["reviewer"]) if spec.get("reviewer") else None,
        reviewer_role=spec.get("reviewer_role", ""),
        review_interval_days=spec["review_interval_days"],
        evaluations=spec["evaluations"],
    )
    created["monitoring plans"] += 1


def review(spec: dict, note: str, *, created: Counter) -> None:
    plan = MonitoringPlan.objects.filter(feature__slug=spec["feature"]).first()
    if plan is None or plan.reviews.exists():
        return
    review_record(actor=get_user_model().objects.get(username=spec["reviewer"]), plan=plan, note=note)
    created["monitoring reviews"] += 1
