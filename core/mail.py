"""Safe email headers: one place turns any text (an incident title typed with a newline, an alert summary) into
a subject line.

Django refuses a header with CR or LF (``BadHeaderError``), which no retry fixes: before this, a newline in an
incident's title made every email about it fail, and the SEV1 emails were retried for two days and never sent.
"""

from __future__ import annotations

import re
import unicodedata

SUBJECT_CHARS = 200
_SPACES = re.compile(r"\s+")


def _one_line_char(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cf":  # invisible format characters (bidi overrides, zero-width): dropped
        return "" if char != "\u200d" else char  # the zero-width joiner holds emoji sequences together
    return " " if category in ("Cc", "Zl", "Zp") or char.isspace() else char


def clean_subject(text: str, *, limit: int = SUBJECT_CHARS) -> str:
    """One line: line breaks, tabs and every other control or line separator become a space, invisible format
    characters go, runs of spaces become one space, at most ``limit`` characters (cut with "…")."""
    text = "".join(_one_line_char(char) for char in str(text or ""))
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
