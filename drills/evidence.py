"""Drill reports as records: linked from the audit trail and from a Statement of Applicability."""

from django.urls import reverse

from compliance.extensions import Evidence
from drills.selectors import drill_runs_visible_to
from registry.audit_links import int_ids


def run_links(ids, user) -> dict[str, str]:
    pks = drill_runs_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", flat=True)
    return {str(pk): reverse("drills:run_detail", args=[pk]) for pk in pks}


def run_evidence(user, kwargs):
    found = drill_runs_visible_to(user).filter(pk=kwargs.get("pk")).first()
    return found and Evidence("drillrun", str(found.pk), str(found)[:300])
