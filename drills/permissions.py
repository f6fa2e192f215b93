"""Who runs drills and who reads their reports.

Governance admins run drills (a drill decides every live route, restricted features included).
Security reviewers and auditors read the saved reports, restricted to the features each may see.
Impact analysis follows the catalog: everyone signed in, restricted features hidden.
"""

from django.core.exceptions import PermissionDenied

from registry.choices import Role
from registry.permissions import has_role, is_governance

RUNNER_REFUSAL = "Only governance admins run drills."
READER_REFUSAL = "Drill reports are open to governance admins, security reviewers and auditors."


def can_run_drills(user) -> bool:
    return is_governance(user)


def can_read_drills(user) -> bool:
    return is_governance(user) or has_role(user, Role.SECURITY, Role.AUDITOR)


def require_drill_runner(user) -> None:
    if not can_run_drills(user):
        raise PermissionDenied(RUNNER_REFUSAL)


def require_drill_reader(user) -> None:
    if not can_read_drills(user):
        raise PermissionDenied(READER_REFUSAL)
