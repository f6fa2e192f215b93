"""What an evidence pack says (its JSON): every part, for a feature and for one version, and the audit chain's
verification, which reports a tampered trail instead of vouching for it."""

import json

import pytest

from packs.content import evidence_pack_content
from packs.render import render_json
from registry.models import AuditEvent
from tests.packs.conftest import REJECT_REASON, SANDBOX_REASON

pytestmark = pytest.mark.django_db


def test_a_feature_pack_holds_every_part(regulated, auditor):
    pack = json.loads(render_json(evidence_pack_content(feature=regulated["feature"], generated_by=auditor)))

    assert pack["schema"] == "gatehouse.evidence-pack/1"
    assert pack["scope"] == "feature"
    assert pack["feature"]["slug"] == "kyc-document-check"
    assert pack["feature"]["risk_tier"] == "regulated"
    v1, v2 = pack["versions"]
    assert (v1["number"], v2["number"]) == (1, 2)
    # Lineage and configuration hash.
    assert v2["config_hash"] == regulated["v2"].config_hash and len(v2["config_hash"]) == 64
    assert v2["parent"] == 1
    assert [parent["number"] for parent in v2["lineage"]] == [1]
    assert v2["lineage"][0]["config_hash"] == regulated["v1"].config_hash
    # The pins.
    assert v2["model"]["identifier"] == "doc-vision-kyc"
    assert (v2["prompt"]["name"], v2["prompt"]["version"]) == ("kyc", 2)
    assert v2["prompt"]["content_hash"] == regulated["v2"].prompt.content_hash
    assert v2["policy_pack"]["name"] == "eu-strict"
    # Evaluations with score, threshold, date and result.
    [evaluation] = v2["evaluations"]
    assert (evaluation["kind"], evaluation["score"], evaluation["threshold"], evaluation["passed"]) == (
        "benchmark",
        0.975,
        0.97,
        True,
    )
    assert evaluation["run_at"]
    # Gate requests with every sign-off: role, signer, decision, reason, time.
    [sandbox] = v1["gate_requests"]
    assert sandbox["status"] == "approved"
    assert [(s["role"], s["decision"], s["reason"]) for s in sandbox["signoffs"]] == [
        ("ml", "approved", SANDBOX_REASON)
    ]
    assert sandbox["signoffs"][0]["signer"] == "Rae Reviewer" and sandbox["signoffs"][0]["decided_at"]
    [production] = v2["gate_requests"]
    assert production["status"] == "rejected"
    rejected = [s for s in production["signoffs"] if s["decision"] == "rejected"]
    assert [(s["role"], s["reason"]) for s in rejected] == [("security", REJECT_REASON)]
    assert len(production["signoffs"]) == 5  # ml, security x2, legal, product: the pending ones too
    # Deployment history and incidents.
    assert [(e["kind"], e["environment"], e["to_version"]) for e in pack["deployment_history"]] == [
        ("promoted", "sandbox", 1)
    ]
    assert [i["title"] for i in pack["incidents"]] == ["Blurry scans time out"]
    assert pack["incidents"][0]["live_version"] == 1
    # The audit excerpt, and the chain verified over a stated range.
    actions = [event["action"] for event in pack["audit"]["events"]]
    assert {"version.submitted", "signoff.approved", "signoff.rejected", "deployment.promoted"} <= set(actions)
    sequences = [event["sequence"] for event in pack["audit"]["events"]]
    assert sequences == sorted(sequences)
    verification = pack["audit"]["verification"]
    assert verification["holds"] is True
    assert verification["first_sequence"] == 1
    assert verification["last_sequence"] == AuditEvent.objects.order_by("-sequence").first().sequence
    assert verification["excerpt_within_verified_range"] is True
    assert pack["summary"]["signoffs"] == 6


def test_a_version_pack_covers_that_version_and_its_lineage_only(regulated):
    pack = evidence_pack_content(feature=regulated["feature"], version=regulated["v2"])

    assert pack["scope"] == "version"
    assert [version["number"] for version in pack["versions"]] == [2]
    assert pack["versions"][0]["lineage"][0]["number"] == 1
    assert pack["deployment_history"] == []  # v2 never went live
    objects = {event["object"] for event in pack["audit"]["events"]}
    assert f"featureversion:{regulated['v2'].pk}" in objects
    assert f"featureversion:{regulated['v1'].pk}" not in objects
    assert f"approvalrequest:{regulated['sandbox'].pk}" not in objects


def test_a_tampered_audit_trail_is_reported_not_vouched_for(regulated, tamper):
    event = AuditEvent.objects.filter(feature=regulated["feature"], action="signoff.rejected").get()
    AuditEvent.objects.filter(pk=event.pk).update(payload={"reason": "Looks fine."})

    verification = evidence_pack_content(feature=regulated["feature"])["audit"]["verification"]

    assert verification["holds"] is False
    assert verification["broken_sequence"] == event.sequence
    assert verification["last_sequence"] == event.sequence - 1
    assert "altered" in verification["message"]
    assert verification["excerpt_within_verified_range"] is False


def test_a_feature_with_no_history_still_makes_a_pack(team, eu):
    from tests.factories import FeatureFactory

    pack = evidence_pack_content(feature=FeatureFactory(team=team, regions=[eu]))

    assert pack["versions"] == [] and pack["deployment_history"] == [] and pack["incidents"] == []
    assert pack["audit"]["verification"]["holds"] is True


def test_every_pack_embeds_a_signed_checkpoint_of_the_chain_it_was_made_from(regulated, settings, tmp_path):
    from registry.models import AuditChainHead

    settings.GATEHOUSE_AUDIT_ANCHOR_FILE = str(tmp_path / "anchor.jsonl")
    head = AuditChainHead.objects.get(pk=1)

    verification = evidence_pack_content(feature=regulated["feature"])["audit"]["verification"]

    checkpoint = verification["checkpoint"]
    assert (checkpoint["sequence"], checkpoint["head_hash"]) == (head.last_sequence, head.last_hash)
    assert checkpoint["anchored"] is True
    assert json.loads((tmp_path / "anchor.jsonl").read_text())["signature"] == checkpoint["signature"]
    assert verification["holds"] and verification["checkpoints_checked"] == 1
