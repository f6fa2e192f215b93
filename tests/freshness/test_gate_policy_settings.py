"""Each gate says how early evidence counts as due soon and how long blocking evidence may wait before a
governance incident. Governance admins set both on the gate policy page (audited with the old and new
values); nobody else can; the next sweep judges by them."""

import pytest
from django.urls import reverse

from approvals.models import GatePolicy
from freshness.choices import CloseReason, FindingState
from freshness.models import FreshnessFinding
from freshness.services import freshness_sweep
from incidents.models import Incident
from registry.models import AuditEvent
from tests.approvals.conftest import policy_post_data
from tests.freshness.world import default_gates, evidence, fresh, live, states  # noqa: F401  (default_gates: autouse)

EDIT = reverse("approvals:policy_edit", args=["production"])


def edit(client, **changes):
    policy = GatePolicy.objects.get(gate="production")
    return client.post(EDIT, policy_post_data(policy, reason="Freshness settings.", **changes))


def test_the_edit_page_shows_the_current_settings(client, governance_admin):
    client.force_login(governance_admin)

    form = client.get(EDIT).context["form"]

    assert form["due_soon_days"].value() == 14
    assert form["escalation_grace_days"].value() == 7
    assert form["review_sla_hours"].value() == 48


def test_governance_sets_them_and_the_change_is_audited(client, governance_admin):
    client.force_login(governance_admin)

    response = edit(client, due_soon_days=30, escalation_grace_days=2)

    assert response.status_code == 302
    policy = GatePolicy.objects.get(gate="production")
    assert (policy.due_soon_days, policy.escalation_grace_days) == (30, 2)
    event = AuditEvent.objects.get(action="gate_policy.updated")
    assert (event.payload["old"]["due_soon_days"], event.payload["new"]["due_soon_days"]) == (14, 30)
    assert (event.payload["old"]["escalation_grace_days"], event.payload["new"]["escalation_grace_days"]) == (7, 2)
    listing = client.get(reverse("approvals:policy_list")).content.decode()
    assert "evidence due soon 30 days ahead, escalated after 2 days" in listing


@pytest.mark.parametrize("field", ["due_soon_days", "escalation_grace_days"])
def test_negative_days_are_refused(client, governance_admin, field):
    client.force_login(governance_admin)

    response = edit(client, **{field: -1})

    assert response.status_code == 200 and response.context["form"].errors[field]
    assert (
        GatePolicy.objects.get(gate="production").due_soon_days,
        GatePolicy.objects.get(gate="production").escalation_grace_days,
    ) == (14, 7)


@pytest.mark.parametrize("persona", ["product_owner", "security_reviewer", "auditor"])
def test_only_governance_changes_them(client, request, persona):
    client.force_login(request.getfixturevalue(persona))

    assert edit(client, due_soon_days=60, escalation_grace_days=0).status_code == 403
    policy = GatePolicy.objects.get(gate="production")
    assert (policy.due_soon_days, policy.escalation_grace_days) == (14, 7)


def test_the_sweep_warns_as_early_as_the_gate_says(client, governance_admin, live):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=65)  # stale in 26 days
    freshness_sweep()
    assert states(version) == {}

    client.force_login(governance_admin)
    edit(client, due_soon_days=30)
    freshness_sweep()
    assert states(version) == {"benchmark": FindingState.DUE_SOON}

    edit(client, due_soon_days=7)
    freshness_sweep()
    assert states(version) == {}
    assert FreshnessFinding.objects.get(version=version).close_reason == CloseReason.RULE_RELAXED


def test_the_sweep_escalates_after_the_gates_grace(client, governance_admin, live, django_capture_on_commit_callbacks):
    version = live.version(kinds=("safety", "privacy_review"))
    evidence(version, "benchmark", age_days=100)
    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep()
    assert not Incident.objects.exists()  # 7 days of grace

    client.force_login(governance_admin)
    edit(client, escalation_grace_days=0)
    with django_capture_on_commit_callbacks(execute=True):
        run = freshness_sweep()

    [incident] = Incident.objects.all()
    assert run.escalations == 1
    assert incident.feature == version.feature and incident.source == "freshness"
    assert FreshnessFinding.objects.get(version=version).incident_id == incident.pk


def test_each_gate_has_its_own_settings(governance_admin, live):
    sandbox = GatePolicy.objects.get(gate="sandbox")
    sandbox.due_soon_days = 60
    sandbox.save()
    version = live.version(kinds=(), environments=("sandbox", "production"))
    evidence(version, "safety", age_days=130)  # sandbox: stale in 51 days (due soon at 60); production: stale
    evidence(version, "benchmark", age_days=30)  # production: stale in 61 days, not due at 14
    evidence(version, "privacy_review", age_days=30)

    freshness_sweep()

    assert states(version, "sandbox") == {"safety": FindingState.DUE_SOON}
    assert states(version, "production") == {"safety": FindingState.STALE}
    assert fresh(sandbox).due_soon_days == 60
