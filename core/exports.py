"""What every file export shares: cells a spreadsheet reads as text, times written in UTC."""

from __future__ import annotations

from datetime import UTC


def spreadsheet_text(value) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or return) gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def utc_stamp(moment) -> str:
    """``2026-12-05T16:20:00Z``, or "" for no moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
