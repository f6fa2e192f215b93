"""Work done once per request: the dashboard's sections and its posture figures read the same counts, and
each app's provider asks for them without knowing who else did."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_ATTRIBUTE = "_gatehouse_once"


def once_per_request(request, name: str, compute: Callable[[], T]) -> T:
    """``compute()``'s value, computed at the first call for this request and ``name`` and kept on the
    request (it lives as long as the request does: nothing is stale for the next one)."""
    kept = request.__dict__.setdefault(_ATTRIBUTE, {})
    if name not in kept:
        kept[name] = compute()
    return kept[name]
