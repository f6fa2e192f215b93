"""Where the apps built on the registry plug in, without the registry importing them.

- ``promotion_guards``: callables ``(feature) -> str | None``. A string is a reason promotions of the
  feature are refused right now (e.g. an open SEV1 incident). Rollbacks are never guarded.
- ``feature_panels``: callables ``(request, feature, version=None) -> dict | None`` returning
  ``{"title": ..., "template": ..., "context": {...}}``: extra sections on the feature and version pages.

Apps register in ``AppConfig.ready``.
"""

from __future__ import annotations

from typing import Callable

promotion_guards: list[Callable] = []
feature_panels: list[Callable] = []


def promotion_blockers(feature) -> list[str]:
    """Every reason promotions of ``feature`` are refused now (empty: none)."""
    return [reason for guard in promotion_guards if (reason := guard(feature))]


def panels_for(request, feature, version=None) -> list[dict]:
    return [panel for provider in feature_panels if (panel := provider(request, feature, version))]
