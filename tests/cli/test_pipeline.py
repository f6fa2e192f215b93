"""A release pipeline through the installed ``gatehouse`` command, as a CI job runs it: create a version,
record its evidence from JSON and from JUnit XML, submit it, request the production gate and wait (a
timeout while sign-offs are missing; approved once reviewers sign), promote, resolve, look the decision
up, and roll back."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from approvals.models import ApprovalRequest
from registry.models import Evaluation, FeatureVersion
from tests.cli.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def junit_results(ran_at: datetime) -> str:
    stamp = ran_at.strftime("%Y-%m-%dT%H:%M:%S")  # JUnit's timestamp: no zone, meaning UTC
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="release-checks">
  <testsuite name="claims-safety-v2" timestamp="{stamp}" tests="2">
    <properties>
      <property name="kind" value="safety"/>
      <property name="artifact_url" value="https://ci.example.test/runs/81"/>
    </properties>
    <testcase classname="safety" name="refusal_rate">
      <properties>
        <property name="score" value="0.98"/>
        <property name="threshold" value="0.95"/>
      </properties>
    </testcase>
    <testcase classname="unit" name="test_prompt_renders"/>
  </testsuite>
  <testsuite name="privacy" timestamp="{stamp}" tests="1">
    <testcase classname="privacy" name="pii_leaks">
      <properties>
        <property name="kind" value="privacy_review"/>
        <property name="metric" value="pii_leak_rate"/>
        <property name="score" value="0.0"/>
        <property name="threshold" value="0.01"/>
        <property name="higher_is_better" value="false"/>
        <property name="region" value="eu"/>
      </properties>
    </testcase>
  </testsuite>
</testsuites>
"""


def test_a_release_from_draft_to_rollback(gatehouse, live, pins, ml_engineer, sign_all, tmp_path):
    token = token_for(ml_engineer, "read", "ci_write")
    model, fallback = pins["model"], pins["fallback_models"][0]
    (tmp_path / "parameters.json").write_text('{"temperature": 0.0, "max_tokens": 600}')

    # A draft, naming the catalog by name where the pipeline knows names, and by id where it knows ids.
    created = gatehouse(
        "--json",
        "version",
        "create",
        "--feature=claims-triage",
        f"--model={model.vendor.slug}/{model.identifier}",
        f"--fallback-model={fallback.pk}",
        "--prompt=triage",
        "--policy-pack=claims@1",
        '--tools=[{"name": "claims.read", "scopes": ["read"]}]',
        f"--parameters=@{tmp_path / 'parameters.json'}",
        "--parent=1",
        "--summary=Shorter rationale",
        token=token,
    )
    assert created.status == 0, created.stderr
    version = json.loads(created.stdout)
    assert (version["feature"], version["number"], version["status"]) == ("claims-triage", 2, "draft")
    draft = FeatureVersion.objects.get(pk=version["id"])
    assert draft.model == model and draft.prompt == pins["prompt"] and draft.policy_pack == pins["policy_pack"]
    assert list(draft.fallbacks.values_list("model", flat=True)) == [fallback.pk]
    assert draft.parameters == {"temperature": 0.0, "max_tokens": 600}
    assert draft.tools == [{"name": "claims.read", "scopes": ["read"]}]
    assert draft.parent.number == 1 and draft.change_summary == "Shorter rationale"

    # Evidence from JSON (a list of the API's evaluation objects) ...
    ran_at = datetime.now(UTC) - timedelta(hours=1)
    benchmark = [
        {
            "kind": "benchmark",
            "suite": "claims-gold-v3",
            "metric": "macro_f1",
            "score": 0.91,
            "threshold": 0.85,
            "run_at": ran_at.isoformat(),
        }
    ]
    (tmp_path / "benchmark.json").write_text(json.dumps(benchmark))
    recorded = gatehouse(
        "evaluations", "record", tmp_path / "benchmark.json", "--feature=claims-triage", "--version=2", token=token
    )
    assert recorded.status == 0, recorded.stderr
    assert recorded.stdout.strip() == "Recorded 1 evaluation on claims-triage v2: 1 passed, 0 failed."

    # ... and from a JUnit XML results file: a testcase with a score is an evaluation, the others are left out.
    (tmp_path / "results.xml").write_text(junit_results(ran_at))
    recorded = gatehouse(
        "evaluations", "record", tmp_path / "results.xml", f"--version-id={version['id']}", "--json", token=token
    )
    assert recorded.status == 0, recorded.stderr
    answers = json.loads(recorded.stdout)
    assert [(a["kind"], a["suite"], a["metric"], a["passed"]) for a in answers] == [
        ("safety", "claims-safety-v2", "refusal_rate", True),
        ("privacy_review", "privacy", "pii_leak_rate", True),
    ]
    safety = Evaluation.objects.get(pk=answers[0]["id"])
    assert safety.artifact_url == "https://ci.example.test/runs/81"
    assert abs(safety.run_at - ran_at.replace(microsecond=0)) < timedelta(seconds=1)
    privacy = Evaluation.objects.get(pk=answers[1]["id"])
    assert privacy.higher_is_better is False and privacy.region.code == "eu"

    submitted = gatehouse("version", "submit", "--feature=claims-triage", "--version=2", token=token)
    assert submitted.status == 0, submitted.stderr
    assert submitted.stdout.startswith("Submitted claims-triage v2 (id ")
    assert FeatureVersion.objects.get(pk=version["id"]).config_hash in submitted.stdout

    # The gate waits for reviewers: the wait ends with its own exit status, saying what is missing.
    waited = gatehouse(
        "gate",
        "request",
        "--feature=claims-triage",
        "--version=2",
        "--environment=production",
        "--region=eu",
        "--region=us",
        "--note=Shorter rationale",
        "--wait",
        "--timeout=1",
        "--interval=0.2",
        token=token,
    )
    assert waited.status == 8, waited.stderr
    request = ApprovalRequest.objects.get(version_id=version["id"])
    assert waited.stdout.startswith(f"Request #{request.pk}: production gate for claims-triage v2 (production: eu, us)")
    assert "pending; waiting for sign-offs from" in waited.stdout
    assert waited.stderr == (
        f"timeout: Request #{request.pk} is still pending after 1 s; "
        "waiting for sign-offs from legal, ml, product, security.\n"
    )

    # Promotion before the approval is refused with the API's code.
    early = gatehouse("promote", request.pk, token=token)
    assert early.status == 6
    assert early.stderr.startswith("approval_pending: ")

    sign_all(request)
    approved = gatehouse("--json", "gate", "wait", request.pk, "--timeout=10", "--interval=0.2", token=token)
    assert approved.status == 0, approved.stderr
    assert json.loads(approved.stdout)["status"] == "approved"

    promoted = gatehouse("promote", request.pk, "--reason=Canary clean", "--json", token=token)
    assert promoted.status == 0, promoted.stderr
    events = json.loads(promoted.stdout)
    assert sorted((e["region"], e["kind"], e["from_version"], e["to_version"]) for e in events) == [
        ("eu", "promoted", 1, 2),
        ("us", "promoted", 1, 2),
    ]

    resolved = gatehouse("resolve", "--feature=claims-triage", "--region=eu", token=token)
    assert resolved.status == 0, resolved.stderr
    assert resolved.stdout.startswith(
        f"claims-triage in eu (production): v2 serves with {model.vendor.slug}/{model.identifier} (primary)"
    )
    answer = json.loads(gatehouse("--json", "resolve", "--feature=claims-triage", "--region=eu", token=token).stdout)
    assert answer["version"]["number"] == 2

    looked_up = gatehouse("decision", answer["decision"], token=token)
    assert looked_up.status == 0, looked_up.stderr
    assert looked_up.stdout.startswith("served: claims-triage v2 in eu (production) with ")
    assert "matches the history; still live." in looked_up.stdout

    rolled_back = gatehouse(
        "rollback",
        "--feature=claims-triage",
        "--environment=production",
        "--region=eu",
        "--reason=Rationale truncated in the UI",
        token=token,
    )
    assert rolled_back.status == 0, rolled_back.stderr
    assert rolled_back.stdout.strip() == "Rolled back claims-triage in production/eu: v2 → v1."
    after = json.loads(gatehouse("resolve", "--feature=claims-triage", "--region=eu", "--json", token=token).stdout)
    assert after["version"]["number"] == 1
