"""Where apps above and beside compliance plug in.

- ``evidence_pages``: ``{URL name: callable (user, kwargs) -> Evidence | None}``. A Statement of Applicability
  links a control to a Gatehouse record by the address of its page; the resolver registered for that page's
  URL name finds the record among those ``user`` may see and says how to name it. Compliance registers the
  pages of the apps below it (``compliance.hooks``); the evidence packs and drills register theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Evidence(NamedTuple):
    object_type: str  # as the audit trail names it (``registry.extensions.audit_object_links``)
    object_id: str
    label: str
    feature: object = None  # the feature the record belongs to, if any: who may not see it never sees the link


evidence_pages: dict[str, Callable] = {}


def register_evidence_page(url_name: str, resolver: Callable) -> None:
    evidence_pages[url_name] = resolver
