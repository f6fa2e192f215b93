"""What a pipeline branches on: each kind of error ends ``gatehouse`` with its exit status and prints
``code: detail`` on stderr (with ``--json``, the API's error answer on stdout)."""

import json
import socket

import pytest

from approvals.models import SignOff
from approvals.services import signoff_decide
from registry.models import FeatureVersion
from tests.cli.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_missing_unknown_or_expired_token_exits_3(gatehouse, live, ml_engineer):
    unset = gatehouse("resolve", "--feature=claims-triage", "--region=eu", token=None)
    assert unset.status == 3
    assert unset.stderr.startswith("not_authenticated: Set GATEHOUSE_TOKEN")

    unknown = gatehouse("resolve", "--feature=claims-triage", "--region=eu", token="gh_not-a-token")
    assert unknown.status == 3
    assert unknown.stderr.startswith("authentication_failed: ")


def test_a_token_without_the_scope_exits_4(gatehouse, live, ml_engineer, pins):
    router_token = token_for(ml_engineer, "resolve", name="router")
    refused = gatehouse(
        "version",
        "create",
        "--feature=claims-triage",
        f"--model={pins['model'].pk}",
        f"--prompt={pins['prompt'].pk}",
        f"--policy-pack={pins['policy_pack'].pk}",
        "--summary=Not from a router",
        token=router_token,
    )
    assert refused.status == 4
    assert refused.stderr.startswith("insufficient_scope: This token's scopes (resolve) do not cover this operation")
    assert FeatureVersion.objects.filter(feature__slug="claims-triage").count() == 1


def test_what_does_not_exist_exits_5(gatehouse, live, ml_engineer):
    token = token_for(ml_engineer)
    assert gatehouse("gate", "wait", "999999", "--timeout=0", token=token).status == 5
    missing = gatehouse("--json", "resolve", "--feature=no-such-feature", "--region=eu", token=token)
    assert missing.status == 5
    assert json.loads(missing.stdout)["code"] == "not_found"
    assert missing.stderr.startswith("not_found: ")
    unknown_number = gatehouse("version", "submit", "--feature=claims-triage", "--version=7", token=token)
    assert unknown_number.status == 5
    assert unknown_number.stderr == "not_found: claims-triage has no version 7 that you may see.\n"


def test_a_rule_that_forbids_it_now_exits_6_with_the_apis_code(gatehouse, live, ml_engineer, uk):
    token = token_for(ml_engineer)
    again = gatehouse("version", "submit", f"--version-id={live.pk}", token=token)
    assert again.status == 6
    assert again.stderr == "conflict: claims-triage v1 is submitted; it cannot become submitted.\n"

    # Nothing is live in uk: resolve refuses, and --json gives the refusal with its explanation.
    refused = gatehouse("resolve", "--feature=claims-triage", "--region=uk", "--json", token=token)
    assert refused.status == 6
    answer = json.loads(refused.stdout)
    assert answer["code"] == "no_eligible_route"
    assert any(step["outcome"] == "fail" for step in answer["explanation"])
    assert refused.stderr.startswith("no_eligible_route: ")


def test_a_rejected_request_exits_7_with_the_reviewers_reason(
    gatehouse, live, new_version, record_evidence, request_gate, ml_engineer, security_reviewer
):
    version = new_version(summary="Longer rationale.")
    record_evidence(version)
    request = request_gate(version)
    signoff = SignOff.objects.get(request=request, role="security")
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="reject", reason="Leaks claim numbers.")
    token = token_for(ml_engineer)

    waited = gatehouse("gate", "wait", request.pk, "--timeout=5", "--interval=0.2", token=token)
    assert waited.status == 7
    assert waited.stdout.startswith(f"Request #{request.pk}: production gate for claims-triage v2")
    assert waited.stderr == (
        f"approval_not_approved: Request #{request.pk} was rejected: security: Leaks claim numbers.\n"
    )
    as_json = gatehouse("--json", "gate", "wait", request.pk, "--timeout=0", token=token)
    assert as_json.status == 7
    assert json.loads(as_json.stdout)["status"] == "rejected"  # the request itself, as the API answers it
    promoted = gatehouse("promote", request.pk, token=token)
    assert promoted.status == 7
    assert promoted.stderr.startswith("approval_not_approved: ")


def test_invalid_input_exits_2_naming_the_field(gatehouse, live, ml_engineer, pins, tmp_path):
    token = token_for(ml_engineer)
    unknown_model = gatehouse(
        "version",
        "create",
        "--feature=claims-triage",
        "--model=999999",
        f"--prompt={pins['prompt'].pk}",
        f"--policy-pack={pins['policy_pack'].pk}",
        "--summary=A model nobody has",
        token=token,
    )
    assert unknown_model.status == 2
    assert unknown_model.stderr == 'invalid: model: Invalid pk "999999" - object does not exist.\n'

    unknown_name = gatehouse(
        "version",
        "create",
        "--feature=claims-triage",
        "--model=nobody/nothing",
        "--prompt=triage",
        "--policy-pack=claims",
        "--summary=A model nobody has",
        token=token,
    )
    assert unknown_name.status == 2
    assert unknown_name.stderr == "invalid: No model 'nobody/nothing' in the catalog.\n"

    (tmp_path / "broken.json").write_text('[{"kind": "safety",')
    broken = gatehouse("evaluations", "record", tmp_path / "broken.json", f"--version-id={live.pk}", token=token)
    assert broken.status == 2
    assert broken.stderr.startswith(f"invalid: {tmp_path / 'broken.json'} is not valid JSON: ")

    usage = gatehouse("gate", "request", "--feature=claims-triage", "--version=1", token=token)
    assert usage.status == 2
    assert usage.stderr.splitlines()[-1] == "usage: the following arguments are required: --environment, --region"


def test_a_rerun_with_the_same_idempotency_key_gets_the_first_answer(gatehouse, live, ml_engineer, pins):
    token = token_for(ml_engineer)
    arguments = [
        "--json",
        "version",
        "create",
        "--feature=claims-triage",
        f"--model={pins['model'].pk}",
        f"--prompt={pins['prompt'].pk}",
        f"--policy-pack={pins['policy_pack'].pk}",
        "--summary=Pipeline 81",
        "--idempotency-key=pipeline-81-version",
    ]
    first, rerun = gatehouse(*arguments, token=token), gatehouse(*arguments, token=token)

    assert first.status == rerun.status == 0
    assert json.loads(first.stdout)["id"] == json.loads(rerun.stdout)["id"]
    assert FeatureVersion.objects.filter(feature__slug="claims-triage").count() == 2


def test_an_unreachable_gatehouse_exits_9(gatehouse):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = gatehouse("--json", "resolve", "--feature=claims-triage", "--region=eu", token="gh_x", url=url)
    assert down.status == 9
    assert json.loads(down.stdout)["code"] == "unreachable"
    assert down.stderr.startswith(f"unreachable: Gatehouse at {url} did not answer")
    waiting = gatehouse("gate", "wait", "1", "--timeout=0.5", "--interval=0.2", token="gh_x", url=url)
    assert waiting.status == 9
    # A write is tried three times (with one Idempotency-Key) before it gives up.
    writing = gatehouse("version", "submit", "--version-id=1", token="gh_x", url=url)
    assert writing.status == 9
    assert writing.stderr.startswith("unreachable: ")
