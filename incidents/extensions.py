"""Where the apps built on incidents plug in, without incidents importing them.

- ``report_section_providers``: callables ``(incident, *, start, end) -> dict | None``: a section about the
  incident's impact window ``[start, end]`` for the drafts of a serious incident's report and for its
  evidence snapshots. A section is ``{"key", "title", "summary", "columns": [str], "rows": [[str]],
  "data": {...}}``: ``summary`` a sentence, ``columns`` and ``rows`` a table of at most a few hundred
  rows, ``data`` what it says in JSON (counts, the records listed). Everything in it is about the
  incident's feature, which whoever reads the draft may see. Routing registers one: the decisions resolve
  recorded in the window (the decision ledger).

Apps register in ``AppConfig.ready`` (``registry.extensions.register``).
"""

from __future__ import annotations

from collections.abc import Callable

report_section_providers: list[Callable] = []


def report_sections(incident, *, start, end) -> list[dict]:
    return [section for provider in report_section_providers if (section := provider(incident, start=start, end=end))]
