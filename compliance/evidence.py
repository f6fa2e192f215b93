"""Links from a Statement of Applicability to the Gatehouse records that show a control is met.

A governance admin pastes the address of the record's page (``/features/kyc-check/versions/3/``, or the
whole URL); ``resolve_evidence`` finds the page's resolver (``compliance.extensions.evidence_pages``) and the
record among those the admin may see. ``evidence_for`` reads links back for a reader: a link on a feature the
reader may not see is left out altogether, and each shown link carries the address the audit trail would
give that reader (none when the reader may not open it).
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.urls import Resolver404, resolve

from compliance.extensions import Evidence, evidence_pages
from compliance.models import StandardEvidence
from registry import extensions as registry_extensions
from registry.selectors import features_visible_to

NOT_EVIDENCE = (
    "Paste the address of a Gatehouse page that shows the record: a feature, a version, a gate request, a gate "
    "policy, an incident, a monitoring plan, a compliance document's revision, an evidence pack or a drill."
)


def resolve_evidence(user, reference: str) -> Evidence:
    """The record ``reference`` (a Gatehouse page's address) names, found among those ``user`` may see."""
    text = (reference or "").strip()
    if not text:
        raise ValidationError({"reference": "Paste the address of the page that shows the evidence."})
    try:
        path = urlsplit(text).path or "/"
    except ValueError:  # not an address at all (an unclosed "[" in the host, say)
        raise ValidationError({"reference": NOT_EVIDENCE}) from None
    if "\x00" in path:
        raise ValidationError({"reference": NOT_EVIDENCE})
    if not path.startswith("/"):
        path = "/" + path
    try:
        match = resolve(path)
    except Resolver404:
        raise ValidationError({"reference": NOT_EVIDENCE}) from None
    resolver = evidence_pages.get(match.view_name)
    if resolver is None:
        raise ValidationError({"reference": NOT_EVIDENCE})
    found = resolver(user, match.kwargs)
    if found is None:
        raise ValidationError({"reference": "No such record, or it is restricted."})
    return found


def visible_links(user):
    """The evidence links ``user`` may know of: those on no feature, or on a feature they may see."""
    return StandardEvidence.objects.filter(Q(feature__isnull=True) | Q(feature__in=features_visible_to(user)))


def evidence_for(user, control_ids) -> dict[str, list[StandardEvidence]]:
    """``{control id: [links, oldest first]}`` as ``user`` may see them, each with ``url`` (or ``None``)."""
    links = list(visible_links(user).filter(control_id__in=list(control_ids)).select_related("added_by"))
    by_type: dict[str, set[str]] = defaultdict(set)
    for link in links:
        by_type[link.object_type].add(link.object_id)
    urls: dict[tuple[str, str], str] = {}
    for object_type, ids in by_type.items():
        provider = registry_extensions.audit_object_links.get(object_type)
        if provider is not None:
            for object_id, url in provider(sorted(ids), user).items():
                urls[(object_type, object_id)] = url
    found: dict[str, list[StandardEvidence]] = defaultdict(list)
    for link in links:
        link.url = urls.get((link.object_type, link.object_id))
        found[link.control_id].append(link)
    return found
