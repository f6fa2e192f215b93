"""Time zones a person may choose for the pages (the API always speaks UTC)."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT = "UTC"
SESSION_KEY = "gatehouse_time_zone"


@cache
def choosable() -> frozenset[str]:
    """Every "Area/City" zone of the system's database, and UTC (not the aliases such as "Factory" or "EST")."""
    return frozenset(
        {DEFAULT} | {name for name in available_timezones() if "/" in name and not name.startswith("Etc/")}
    )


@cache
def grouped_choices() -> list:
    """Choices for a select, grouped by area: ``[("UTC", "UTC"), ("Europe", [("Europe/Paris", "Paris"), ...]), ...]``."""
    areas: dict[str, list[tuple[str, str]]] = {}
    for name in sorted(choosable() - {DEFAULT}):
        area, _, place = name.partition("/")
        areas.setdefault(area, []).append((name, place.replace("_", " ").replace("/", " / ")))
    return [(DEFAULT, "UTC"), *areas.items()]


def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an empty or unknown name (a zone the system no longer has)."""
    try:
        return ZoneInfo(name or DEFAULT)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT)
