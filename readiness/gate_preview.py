"""Readiness's part of a gate policy preview (registered in ``approvals.extensions``): which live production
features would stop being ready, or become ready, under the proposed requirements."""

from __future__ import annotations

from datetime import datetime

from approvals.extensions import ReadinessEffect
from readiness.checklist import readiness_many
from readiness.current import CHUNK, missing_items
from registry.models import AIFeature


def readiness_effect(features: list[tuple[int, str]], *, now: datetime, policies: dict) -> ReadinessEffect:
    effect = ReadinessEffect()
    before = missing_items(features, now=now)
    ids = [pk for pk, _slug in features]
    for start in range(0, len(ids), CHUNK):
        chunk = AIFeature.objects.filter(pk__in=ids[start : start + CHUNK])
        for readiness in readiness_many(chunk, now=now, policies=policies):
            pk = readiness.feature.pk
            was_ready = not before.get(pk)
            if was_ready and not readiness.ready:
                effect.lost.append((pk, "; ".join(item.detail for item in readiness.items if not item.ok)))
            elif readiness.ready and not was_ready:
                effect.gained.append(pk)
    return effect
