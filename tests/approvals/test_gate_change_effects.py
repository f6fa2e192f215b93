"""A gate change shows what it does before it is saved, and once saved every page and API agrees at once:
readiness, freshness findings, the feature page's promotion blockers, promotion itself and resolve's
warnings, without anyone running the hourly sweep."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from approvals.choices import RequestStatus
from approvals.impact import gate_policy_preview
from approvals.models import GatePolicy
from approvals.services import gate_assignment_update, promotion_execute, requirements_snapshot
from core.exceptions import Conflict
from freshness.models import FreshnessFinding, SweepRun
from registry.models import AuditEvent
from registry.services import version_create, version_submit
from tests.approvals.conftest import fresh, policy_post_data
from tests.factories import FeatureFactory, PromptVersionFactory
from tests.readiness.conftest import (  # noqa: F401  (fixtures)
    catalog,
    claims,
    claims_live,
    dana,
    on_call,
    release,
)

EDIT = reverse("approvals:policy_edit", args=["production"])
RED_TEAM = {"evidence_red_team": "on", "evidence_red_team_max_age_days": 180}


def production():
    return GatePolicy.objects.prefetch_related("requirements").get(gate="production")


@pytest.fixture
def world(claims_live, ml_engineer, catalog, record_evidence, request_gate, sign_all):
    """Claims triage ready and live (v2 in production, EU and US); v3 approved for sandbox and not yet
    promoted; v4 submitted with the production evidence and no request yet."""
    feature = claims_live["feature"]

    def submitted(prompt_version):
        version = version_create(
            actor=ml_engineer,
            feature=feature,
            model=catalog["sonnet"],
            fallback_models=[catalog["haiku"]],
            prompt=PromptVersionFactory(name="triage", version=prompt_version),
            policy_pack=catalog["policy"],
            change_summary=f"Triage prompt {prompt_version}.",
        )
        version = version_submit(actor=ml_engineer, version=version)
        record_evidence(version)
        return version

    v3 = submitted(8)
    sandbox = sign_all(request_gate(v3, environment="sandbox"))
    assert sandbox.status == RequestStatus.APPROVED
    pending = request_gate(v3)  # to production, waiting for its reviewers
    v4 = submitted(9)
    return {**claims_live, "v3": v3, "v4": v4, "sandbox": sandbox, "pending": pending}


def with_red_team(**extra):
    return {**policy_post_data(production(), **RED_TEAM), **extra}


def test_the_preview_shows_what_adding_evidence_would_do_and_changes_nothing(client, world, governance_admin):
    client.force_login(governance_admin)
    before = requirements_snapshot(production())

    response = client.post(EDIT, with_red_team(preview="1"))  # no reason needed to look

    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.changes == ["Adds Red team evidence ≤ 180 days old."]
    assert [entry.label for entry in preview.readiness_lost.first] == ["Claims triage"]
    assert "Red team of v2 is missing" in preview.readiness_lost.first[0].detail
    assert [(e.label, e.detail) for e in preview.findings_opened.first] == [
        ("Claims triage v2 in production", "Red team evidence missing")
    ]
    assert [e.label for e in preview.promotions_blocked.first] == [
        f"Request #{world['sandbox'].pk}: Claims triage v3 → sandbox"
    ]
    assert [e.label for e in preview.versions_held.first] == ["Claims triage v4"]
    assert preview.open_requests == 1  # v3's pending production request (the sandbox one passed another gate)
    page = response.content.decode()
    assert "What this change does" in page and "Would no longer be ready" in page
    assert "Approved promotions that would be blocked" in page
    assert "Open requests keep the rules they were made under (1 open request of this gate)" in page
    # Nothing was written: not the policy, not a finding, not an audit event.
    assert requirements_snapshot(production()) == before
    assert not FreshnessFinding.objects.exists()
    assert not AuditEvent.objects.filter(action="gate_policy.updated").exists()


def test_saving_a_change_of_requirements_shows_the_preview_first(client, world, governance_admin):
    client.force_login(governance_admin)

    shown = client.post(EDIT, with_red_team(reason="Red teaming before production.", save="1"))

    assert shown.status_code == 200 and shown.context["confirm_first"]
    assert "save again to confirm" in shown.content.decode()
    assert not production().requirements.filter(evidence_kind="red_team").exists()
    changed_after_preview = with_red_team(
        reason="Red teaming.", save="1", previewed=shown.context["preview"].digest, evidence_red_team_max_age_days=30
    )
    assert client.post(EDIT, changed_after_preview).status_code == 200  # what was previewed is not what is saved
    assert not production().requirements.filter(evidence_kind="red_team").exists()


def test_a_saved_gate_change_shows_everywhere_at_once(
    client, world, governance_admin, dana, django_capture_on_commit_callbacks
):
    feature, sandbox = world["feature"], world["sandbox"]
    client.force_login(governance_admin)
    # Every page agrees the feature is ready and nothing blocks it; the readiness answer is now cached.
    assert client.get("/api/v1/readiness/features/claims-triage/").json()["ready"]
    assert client.get("/api/v1/readiness/", {"state": "not_ready"}).json()["count"] == 0
    assert client.get(reverse("readiness:dashboard"), {"state": "not_ready"}).context["paginator"].count == 0
    resolved = client.get("/api/v1/resolve/", {"feature": "claims-triage", "region": "eu"}).json()
    assert resolved["warnings"] == []
    assert "Promotions frozen" not in client.get(feature.get_absolute_url()).content.decode()

    preview = client.post(EDIT, with_red_team(preview="1")).context["preview"]
    with django_capture_on_commit_callbacks(execute=True):
        saved = client.post(
            EDIT, with_red_team(reason="Red teaming before production.", save="1", previewed=preview.digest)
        )
    assert saved.status_code == 302

    # Readiness, page and API (the cached answer was dropped).
    one = client.get("/api/v1/readiness/features/claims-triage/").json()
    assert not one["ready"] and "evidence" in one["missing"]
    assert [row["feature"] for row in client.get("/api/v1/readiness/", {"state": "not_ready"}).json()["results"]] == [
        "claims-triage"
    ]
    dashboard = client.get(reverse("readiness:dashboard"), {"state": "not_ready"})
    assert [row.feature.slug for row in dashboard.context["object_list"]] == ["claims-triage"]
    # Freshness: the finding is open now, not after the next sweep.
    findings = client.get("/api/v1/freshness/findings/").json()["results"]
    assert [(row["feature"], row["evidence_kind"], row["state"]) for row in findings] == [
        ("claims-triage", "red_team", "missing")
    ]
    assert "Red team" in client.get(reverse("freshness:dashboard")).content.decode()
    assert not SweepRun.objects.exists()
    # The feature page's blockers, and promotion itself.
    page = client.get(feature.get_absolute_url()).content.decode()
    assert "Promotions frozen" in page and "Production red team evidence of v2 is missing" in page
    with pytest.raises(Conflict, match="red team evidence of v2 is missing"):
        promotion_execute(actor=dana, request=sandbox)
    # The open request keeps the rules it was made under.
    assert "red_team" not in {rule["kind"] for rule in fresh(world["pending"]).requirements["evidence"]}
    # Resolve warns (the route stays).
    resolved = client.get("/api/v1/resolve/", {"feature": "claims-triage", "region": "eu"}).json()
    assert resolved["route"] == "primary"
    assert any("Red team evidence is missing under the production gate" in warning for warning in resolved["warnings"])


def test_a_gate_assignment_change_rechecks_the_tier_at_once(
    world, governance_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        gate_assignment_update(
            actor=governance_admin,
            risk_tier="high",
            environment="production",
            gate="regulated",
            reason="High risk now needs the regulated gate.",
        )

    assert set(FreshnessFinding.objects.filter(closed_at__isnull=True).values_list("evidence_kind", flat=True)) == {
        "red_team",
        "regional_language",
    }


def test_the_preview_is_bounded_and_governance_only(
    world, release, team, dana, on_call, eu, us, governance_admin, product_owner
):
    for number in range(2):
        twin = FeatureFactory(
            slug=f"claims-twin-{number}",
            name=f"Claims twin {number}",
            team=team,
            risk_tier="high",
            accountable_owner=dana,
            incident_owner=on_call,
            regions=[eu, us],
            rollback_path="Flag back.",
            monitors="https://grafana.example.test/d/twin",
            slos="p95 under 2s",
        )
        release(twin, prompt_version=20 + number)
    requirements = [*requirements_snapshot_as_specs(), {"kind": "evidence", "evidence_kind": "red_team"}]

    preview = gate_policy_preview(user=governance_admin, policy=production(), requirements=requirements, limit=2)

    assert preview.findings_opened.count == 3 and len(preview.findings_opened.first) == 2
    assert preview.findings_opened.more == 1
    assert preview.readiness_lost.count == 3 and preview.readiness_lost.more == 1
    assert [entry.label for entry in preview.readiness_lost.first] == ["Claims triage", "Claims twin 0"]  # by name
    with pytest.raises(PermissionDenied):
        gate_policy_preview(user=product_owner, policy=production(), requirements=requirements)
    with pytest.raises(ValidationError, match="nothing goes live unreviewed"):
        gate_policy_preview(
            user=governance_admin, policy=production(), requirements=[{"kind": "evidence", "evidence_kind": "red_team"}]
        )


def requirements_snapshot_as_specs():
    snapshot = requirements_snapshot(production())
    return (
        [{"kind": "signoff", **rule} for rule in snapshot["signoffs"]]
        + [
            {
                "kind": "evidence",
                "evidence_kind": rule["kind"],
                "min_score": rule["min_score"],
                "max_age_days": rule["max_age_days"],
            }
            for rule in snapshot["evidence"]
        ]
        + [{"kind": "readiness", "readiness_item": item} for item in snapshot["readiness"]]
    )


def test_the_api_previews_the_same_change_for_governance_only(client, world, governance_admin, product_owner):
    url = "/api/v1/gate-policies/production/preview/"
    body = {
        "requirements": [
            *requirements_snapshot_as_specs(),
            {"kind": "evidence", "evidence_kind": "red_team", "max_age_days": 180},
        ],
        "limit": 5,
    }
    client.force_login(governance_admin)

    answer = client.post(url, body, content_type="application/json")

    assert answer.status_code == 200, answer.content
    preview = answer.json()
    assert preview["changes"] == ["Adds Red team evidence ≤ 180 days old."]
    assert preview["readiness_lost"] == {
        "count": 1,
        "first": [
            {
                "label": "Claims triage",
                "detail": "Red team of v2 is missing: No red team evaluation recorded.",
                "url": "/features/claims-triage/",
            }
        ],
    }
    assert [entry["label"] for entry in preview["findings_opened"]["first"]] == ["Claims triage v2 in production"]
    assert preview["promotions_blocked"]["count"] == 1 and preview["versions_held"]["count"] == 1
    assert not FreshnessFinding.objects.exists()
    refused = client.post(
        url, {"requirements": [{"kind": "evidence", "evidence_kind": "red_team"}]}, content_type="application/json"
    )
    assert refused.status_code == 400 and "nothing goes live unreviewed" in refused.content.decode()
    client.force_login(product_owner)
    assert client.post(url, body, content_type="application/json").status_code == 403
