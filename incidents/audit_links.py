"""Where the audit trail links incidents (``registry.extensions.audit_object_links``)."""

from django.urls import reverse

from incidents.selectors import incidents_visible_to
from registry.audit_links import int_ids


def incidents(ids, user) -> dict[str, str]:
    """Incidents of features ``user`` may see, and no others."""
    pks = incidents_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", flat=True)
    return {str(pk): reverse("incidents:incident_detail", args=[pk]) for pk in pks}
