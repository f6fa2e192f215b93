"""Answers kept in the shared cache under a key that says what they were computed from.

The caller makes the key before reading the database (from stamps or generations a change renews), so a
change committed meanwhile leaves the answer under a key nobody reads any more. Without the shared cache
the answer is computed and nothing is kept: slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")


def kept(key: str | None, compute: Callable[[], tuple[T, int]]) -> T:
    """The answer kept under ``key``, or ``compute()``'s, kept for the seconds it returns with it (none
    when they are not positive). ``key`` None: the shared cache was unreachable when the key was made."""
    if key:
        try:
            found = cache.get(key)
        except Exception:  # the shared cache stopped answering since the key was made: compute, keep nothing
            found = key = None
        if found is not None:
            return found
    value, seconds = compute()
    if key and seconds > 0:
        try:
            cache.set(key, value, timeout=seconds)
        except Exception:
            pass  # unreachable: computed again next time
    return value
