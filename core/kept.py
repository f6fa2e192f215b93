"""Answers kept in the shared cache under a key that says what they were computed from.

The caller makes the key before reading the database (from stamps or generations a change renews), so a
change committed meanwhile leaves the answer under a key nobody reads any more. Without the shared cache
the answer is computed and nothing is kept: slower, never wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

K = TypeVar("K")
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


def kept_many(keys: dict[K, str | None], compute: Callable[[list[K]], tuple[dict[K, T], int]]) -> dict[K, T]:
    """``kept`` for many answers at once: ``{name: answer}`` for each name of ``keys``, those kept under its
    key read in one round trip, the others from ``compute(their names)``, which returns them with the seconds
    to keep them. A key None: the shared cache was unreachable when it was made (computed, not kept)."""
    wanted = {name: key for name, key in keys.items() if key}
    found: dict[K, T] = {}
    if wanted:
        try:
            held = cache.get_many(list(wanted.values()))
        except Exception:  # the shared cache stopped answering since the keys were made: compute, keep nothing
            held, wanted = {}, {}
        found = {name: held[key] for name, key in wanted.items() if key in held}
    missing = [name for name in keys if name not in found]
    if not missing:
        return found
    computed, seconds = compute(missing)
    entries = {wanted[name]: answer for name, answer in computed.items() if name in wanted}
    if entries and seconds > 0:
        try:
            cache.set_many(entries, timeout=seconds)
        except Exception:
            pass  # unreachable: computed again next time
    return {**found, **computed}
