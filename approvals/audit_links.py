"""Where the audit trail links approval requests and gate policies (``registry.extensions.audit_object_links``)."""

from django.urls import reverse

from approvals import selectors
from approvals.models import GatePolicy
from registry.audit_links import int_ids


def approval_requests(ids, user) -> dict[str, str]:
    """Requests on features ``user`` may see, and no others."""
    pks = selectors.requests_visible_to(user).filter(pk__in=int_ids(ids)).values_list("pk", flat=True)
    return {str(pk): reverse("approvals:request_detail", args=[pk]) for pk in pks}


def gate_policies(ids, user) -> dict[str, str]:
    url = reverse("approvals:policy_list")
    return {str(pk): url for pk in GatePolicy.objects.filter(pk__in=int_ids(ids)).values_list("pk", flat=True)}
