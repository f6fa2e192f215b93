"""Evidence packs as records: linked from the audit trail and from a Statement of Applicability.

An export is its requester's (``selectors.exports_visible_to``), so only they get a link; others see its name."""

from django.urls import reverse

from compliance.extensions import Evidence
from packs import selectors
from registry.audit_links import int_ids


def export_links(ids, user) -> dict[str, str]:
    pks = selectors.exports_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", flat=True)
    return {str(pk): reverse("packs:export_detail", args=[pk]) for pk in pks}


def export_evidence(user, kwargs):
    found = selectors.exports_visible_to(user).filter(pk=kwargs.get("pk")).select_related("feature").first()
    return found and Evidence("packexport", str(found.pk), str(found)[:300], found.feature)
