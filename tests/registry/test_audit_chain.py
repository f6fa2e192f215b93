"""The audit trail: one event per write, attributed and in the same transaction, hash-chained so that
altering, removing or truncating events is detected by ``audit_verify`` and its command."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit_context import audit_context
from registry.models import ApiToken, AuditChainHead, AuditEvent, PromptVersion
from registry.services import (
    api_token_create,
    api_token_revoke,
    audit_record,
    audit_verify,
    catalog_model_create,
    dataset_create,
    evaluation_record,
    feature_create,
    feature_update,
    policy_pack_create,
    prompt_version_create,
    role_grant,
    team_create,
    team_member_add,
    vendor_create,
    version_create,
    version_retire,
    version_submit,
    version_update,
)
from registry.services.audit import GENESIS_HASH, SCHEME_LEGACY, compute_event_hash
from tests.factories import (
    FeatureFactory,
    UserFactory,
    VendorFactory,
    VersionFactory,
)


@pytest.fixture
def world(product_owner, ml_engineer, governance_admin, team, eu):
    """The rows around a write, and the sequence the trail had reached before it."""
    feature = FeatureFactory(slug="claims-triage", team=team)
    draft = VersionFactory(feature=feature, number=1)
    submitted = version_submit(actor=product_owner, version=VersionFactory(feature=feature, number=2))
    return SimpleNamespace(
        product_owner=product_owner,
        ml_engineer=ml_engineer,
        governance_admin=governance_admin,
        team=team,
        eu=eu,
        feature=feature,
        draft=draft,
        submitted=submitted,
        baseline=AuditChainHead.objects.get(pk=1).last_sequence,
    )


def prompt_write(actor, name="triage"):
    return prompt_version_create(actor=actor, name=name, template=f"Sort this claim ({name}): {{{{ claim }}}}")


# Each case performs one service write and says what its event must show: (action, actor, object, feature).


def _feature_created(w):
    feature = feature_create(
        actor=w.product_owner,
        regions=[w.eu],
        slug="claims-summary",
        name="Claims summary",
        purpose="Summaries.",
        team=w.team,
        accountable_owner=w.product_owner,
        incident_owner=w.product_owner,
        risk_tier="low",
        intended_uses="Summaries for handlers.",
        disallowed_uses="Decisions.",
        data_classification="internal",
    )
    return "feature.created", w.product_owner, ("aifeature", feature.pk), feature


def _feature_updated(w):
    feature_update(actor=w.ml_engineer, feature=w.feature, reason="Clearer name.", name="Claims triage assistant")
    return "feature.updated", w.ml_engineer, ("aifeature", w.feature.pk), w.feature


def _version_created(w):
    version = version_create(
        actor=w.ml_engineer,
        feature=w.feature,
        change_summary="Third.",
        model=w.draft.model,
        prompt=w.draft.prompt,
        policy_pack=w.draft.policy_pack,
    )
    return "version.created", w.ml_engineer, ("featureversion", version.pk), w.feature


def _version_updated(w):
    version_update(actor=w.product_owner, version=w.draft, retrieval_index="claims-kb")
    return "version.updated", w.product_owner, ("featureversion", w.draft.pk), w.feature


def _version_submitted(w):
    version_submit(actor=w.product_owner, version=w.draft)
    return "version.submitted", w.product_owner, ("featureversion", w.draft.pk), w.feature


def _version_retired(w):
    version_retire(actor=w.governance_admin, version=w.submitted, reason="Superseded.")
    return "version.retired", w.governance_admin, ("featureversion", w.submitted.pk), w.feature


def _evaluation_recorded(w):
    evaluation = evaluation_record(
        actor=w.ml_engineer,
        version=w.submitted,
        kind="safety",
        suite="jailbreaks-v2",
        metric="refusal_rate",
        score=0.98,
        threshold=0.95,
        run_at=timezone.now() - timedelta(hours=1),
    )
    return "evaluation.recorded", w.ml_engineer, ("evaluation", evaluation.pk), w.feature


def _vendor_created(w):
    vendor = vendor_create(actor=w.governance_admin, slug="mistral", name="Mistral", status="approved")
    return "vendor.created", w.governance_admin, ("vendor", vendor.pk), None


def _model_created(w):
    model = catalog_model_create(
        actor=w.governance_admin,
        vendor=VendorFactory(slug="anthropic"),
        identifier="claude-haiku-4",
        context_window=200000,
        regions=[w.eu],
    )
    return "model.created", w.governance_admin, ("catalogmodel", model.pk), None


def _prompt_created(w):
    prompt = prompt_write(w.ml_engineer)
    return "prompt.created", w.ml_engineer, ("promptversion", prompt.pk), None


def _policy_pack_created(w):
    pack = policy_pack_create(actor=w.governance_admin, name="claims-eu", allowed_regions=[w.eu])
    return "policy_pack.created", w.governance_admin, ("policypack", pack.pk), None


def _dataset_created(w):
    dataset = dataset_create(
        actor=w.product_owner,
        name="claims-golden",
        version="2026-01",
        uri="s3://datasets/claims-golden",
        classification="confidential",
        owner=w.team,
    )
    return "dataset.created", w.product_owner, ("dataset", dataset.pk), None


def _team_created(w):
    team = team_create(actor=w.governance_admin, slug="underwriting", name="Underwriting")
    return "team.created", w.governance_admin, ("team", team.pk), None


def _team_member_added(w):
    team_member_add(actor=w.governance_admin, team=w.team, user=UserFactory(username="new-hire"), reason="joins")
    return "team.member_added", w.governance_admin, ("team", w.team.pk), None


def _role_granted(w):
    user = UserFactory(username="new-reviewer")
    role_grant(actor=w.governance_admin, user=user, role="security", reason="new reviewer")
    return "role.granted", w.governance_admin, ("user", user.pk), None


def _api_token_created(w):
    token, _raw = api_token_create(actor=w.product_owner, user=w.product_owner, name="ci-pipeline")
    return "api_token.created", w.product_owner, ("apitoken", token.pk), None


def _api_token_revoked(w):
    raw = "gh_revoke-me"
    token = ApiToken.objects.create(
        user=w.product_owner, name="ci-pipeline", prefix=raw[:10], key_hash=ApiToken.hash_key(raw)
    )
    api_token_revoke(actor=w.governance_admin, token=token)
    return "api_token.revoked", w.governance_admin, ("apitoken", token.pk), None


SERVICE_WRITES = [
    _feature_created,
    _feature_updated,
    _version_created,
    _version_updated,
    _version_submitted,
    _version_retired,
    _evaluation_recorded,
    _vendor_created,
    _model_created,
    _prompt_created,
    _policy_pack_created,
    _dataset_created,
    _team_created,
    _team_member_added,
    _role_granted,
    _api_token_created,
    _api_token_revoked,
]


@pytest.mark.parametrize("write", SERVICE_WRITES, ids=lambda write: write.__name__.strip("_"))
def test_every_service_write_records_exactly_one_attributed_event(world, write):
    action, actor, (object_type, object_id), feature = write(world)

    event = AuditEvent.objects.get(sequence__gt=world.baseline)
    assert event.action == action
    assert event.actor == actor
    assert event.actor_name == actor.get_username()
    assert (event.object_type, event.object_id) == (object_type, str(object_id))
    assert event.feature_id == (feature.pk if feature else None)
    assert (event.source, event.request_id) == ("cli", "")


def test_a_write_made_while_serving_a_request_carries_its_source_and_request_id(ml_engineer):
    with audit_context(source="web", request_id="abc"):
        prompt_write(ml_engineer, name="from-web")
    with audit_context(source="api", request_id="req-42"):
        prompt_write(ml_engineer, name="from-api")
    prompt_write(ml_engineer, name="from-shell")

    assert list(AuditEvent.objects.order_by("sequence").values_list("source", "request_id")) == [
        ("web", "abc"),
        ("api", "req-42"),
        ("cli", ""),
    ]


class Abandoned(Exception):
    pass


def test_rolling_back_a_change_takes_its_audit_event_with_it(ml_engineer):
    prompt_write(ml_engineer, name="kept")
    head_before = AuditChainHead.objects.values("last_sequence", "last_hash").get(pk=1)

    with pytest.raises(Abandoned):
        with transaction.atomic():
            prompt_write(ml_engineer, name="abandoned")
            assert AuditEvent.objects.filter(action="prompt.created").count() == 2
            raise Abandoned

    assert not PromptVersion.objects.filter(name="abandoned").exists()
    assert list(AuditEvent.objects.values_list("sequence", flat=True)) == [1]
    assert AuditChainHead.objects.values("last_sequence", "last_hash").get(pk=1) == head_before
    assert audit_verify().ok


def test_a_change_whose_audit_event_cannot_be_written_is_not_kept(ml_engineer):
    prompt_write(ml_engineer, name="kept")
    event = AuditEvent.objects.get()
    # A stray row already holds the next sequence number, so the next audit insert must fail.
    AuditEvent.objects.create(
        sequence=2,
        at=timezone.now(),
        actor_name="stray",
        source="cli",
        action="stray",
        object_type="x",
        object_id="1",
        prev_hash=event.hash,
        hash="f" * 64,
    )

    with pytest.raises(IntegrityError):
        prompt_write(ml_engineer, name="unaudited")

    assert not PromptVersion.objects.filter(name="unaudited").exists()


@pytest.mark.django_db(transaction=True)
def test_recording_an_event_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(actor=None, action="feature.poked", object_type="aifeature", object_id=1)

    assert not AuditEvent.objects.exists()


# --- The chain ------------------------------------------------------------------------------------------


@pytest.fixture
def chain(ml_engineer, tamper):
    """Five events, sequences 1 to 5 (and the trail open to tampering, on PostgreSQL too)."""
    for name in ("alpha", "bravo", "charlie", "delta", "echo"):
        prompt_write(ml_engineer, name=name)
    return list(AuditEvent.objects.order_by("sequence"))


def test_sequences_are_contiguous_and_each_event_links_to_the_one_before(chain):
    assert [event.sequence for event in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, event in zip(chain, chain[1:]):
        assert event.prev_hash == previous.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.last_sequence, head.last_hash) == (5, chain[-1].hash)


def test_an_intact_chain_verifies(chain):
    result = audit_verify()

    assert result.ok
    assert result.checked == 5
    assert result.broken_sequence is None


TAMPERS = {
    "payload": {"payload": {"name": "alpha", "version": 1, "content_hash": "0" * 64}},
    "actor_name": {"actor_name": "somebody-else"},
    "action": {"action": "prompt.deleted"},
    "at": {"at": timezone.now() - timedelta(days=400)},
    "source": {"source": "web"},
    "request_id": {"request_id": "forged"},
    "object_id": {"object_id": "999"},
    "object_repr": {"object_repr": "something else entirely"},
}


@pytest.mark.parametrize("changes", TAMPERS.values(), ids=TAMPERS.keys())
def test_altering_a_recorded_field_is_detected_at_that_event(chain, changes):
    AuditEvent.objects.filter(sequence=3).update(**changes)

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 3
    assert result.checked == 5
    assert [(problem.sequence, problem.message) for problem in result.problems] == [(3, "event #3 was altered")]


def test_rewriting_an_event_with_an_unkeyed_hash_is_detected_at_that_event(chain):
    """Without the key, a recomputed hash is just wrong: the chain is keyed."""
    _rewrite_with_valid_hash(sequence=3, payload={"forged": True}, keyed=False)

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 3
    assert "event #3" in result.problems[0].message


def test_rewriting_an_event_with_a_recomputed_hash_breaks_the_link_to_the_next(chain):
    _rewrite_with_valid_hash(sequence=3, payload={"forged": True})

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 4


def test_rewriting_the_newest_event_with_a_recomputed_hash_is_caught_by_the_chain_head(chain):
    _rewrite_with_valid_hash(sequence=5, payload={"forged": True})

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 5


def test_deleting_an_event_in_the_middle_reports_it_missing(chain):
    AuditEvent.objects.filter(sequence=3).delete()

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == 3
    assert "#3 is missing" in result.message


@pytest.mark.parametrize("removed", [[5], [4, 5]], ids=["newest", "two-newest"])
def test_deleting_the_newest_events_is_detected_through_the_chain_head(chain, removed):
    AuditEvent.objects.filter(sequence__in=removed).delete()

    result = audit_verify()

    assert not result.ok
    assert result.broken_sequence == removed[0]
    assert (f"#{removed[0]} to #5 were removed" if len(removed) > 1 else "event #5 was removed") in result.message


def test_deleting_the_newest_events_and_the_chain_head_is_detected(chain):
    AuditEvent.objects.filter(sequence=5).delete()
    AuditChainHead.objects.all().delete()

    assert not audit_verify().ok


def _rewrite_with_valid_hash(*, sequence, payload, keyed=True):
    """Rewrite an event and recompute its hash: with the key (an insider holding it), or without."""
    event = AuditEvent.objects.get(sequence=sequence)
    forged_hash = compute_event_hash(
        sequence=event.sequence,
        at=event.at,
        actor_id=event.actor_id,
        actor_name=event.actor_name,
        source=event.source,
        request_id=event.request_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        feature_id=event.feature_id,
        payload=payload,
        prev_hash=event.prev_hash,
        scheme=event.scheme if keyed else SCHEME_LEGACY,
        key_id=event.key_id,
    )
    AuditEvent.objects.filter(pk=event.pk).update(
        payload=payload, hash=forged_hash, scheme=event.scheme if keyed else SCHEME_LEGACY
    )


# --- The audit_verify command ---------------------------------------------------------------------------


def test_the_verify_command_reports_an_intact_chain(chain):
    out = StringIO()

    call_command("audit_verify", stdout=out)

    assert "intact" in out.getvalue()
    assert "5 events verified" in out.getvalue()


def test_the_verify_command_fails_naming_the_broken_event(chain):
    AuditEvent.objects.filter(sequence=4).update(payload={"tampered": True})

    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", stdout=StringIO())

    assert "#4" in str(failure.value)
    assert "BROKEN" in str(failure.value)


def test_events_appended_after_the_head_was_read_are_not_taken_for_tampering(chain, ml_engineer, monkeypatch):
    """audit_verify reads the head first; a write committed meanwhile is beyond it, not a removal nor a forgery
    (it moved the head in its own transaction)."""
    walk = AuditEvent.objects.order_by

    def append_then_walk(*args):
        prompt_write(ml_engineer, name="meanwhile")
        return walk(*args)

    monkeypatch.setattr(AuditEvent.objects, "order_by", append_then_walk)

    result = audit_verify()

    assert result.ok, result.problems
    assert result.checked == 6


# --- Every bad event, not only the first ---------------------------------------------------------------


def test_every_bad_event_is_reported_with_a_count(chain):
    """One harmless oddity must not hide real tampering later on: the walk goes on to the end."""
    AuditEvent.objects.filter(sequence=2).update(payload={"tampered": True})
    AuditEvent.objects.filter(sequence=4).delete()
    AuditEvent.objects.filter(sequence=5).update(actor_name="somebody-else")

    result = audit_verify()

    assert not result.ok
    assert result.problem_count == 3
    assert [(problem.sequence, problem.message) for problem in result.problems] == [
        (2, "event #2 was altered"),
        (4, "event #4 is missing (the next is #5)"),
        (5, "event #5 was altered"),
    ]
    assert result.broken_sequence == 2
    assert result.message.startswith("3 problems; the first: event #2 was altered")


def test_a_row_forged_beyond_the_chain_head_is_reported(chain):
    fifth = chain[-1]
    AuditEvent.objects.create(
        sequence=6,
        at=timezone.now(),
        actor_name="mallory",
        source="cli",
        action="feature.updated",
        object_type="aifeature",
        object_id="1",
        prev_hash=fifth.hash,
        hash="f" * 64,
        scheme=2,
        key_id=fifth.key_id,
    )

    result = audit_verify()

    assert not result.ok
    assert "event #6 lies beyond the chain head" in " ".join(problem.message for problem in result.problems)


def test_an_empty_trail_whose_head_was_deleted_is_reported(chain):
    AuditEvent.objects.all().delete()
    AuditChainHead.objects.all().delete()

    result = audit_verify()

    assert not result.ok
    assert "the chain head is missing" in result.message


def test_the_verify_command_lists_every_problem_up_to_a_limit_with_the_total(chain):
    for sequence in (1, 2, 3, 4, 5):
        AuditEvent.objects.filter(sequence=sequence).update(object_repr=f"tampered {sequence}")
    out = StringIO()

    with pytest.raises(CommandError) as failure:
        call_command("audit_verify", "--limit", "3", stdout=out)

    listed = [line for line in out.getvalue().splitlines() if line.startswith("  - ")]
    assert listed == ["  - event #1 was altered", "  - event #2 was altered", "  - event #3 was altered"]
    assert "… and 2 more." in out.getvalue()
    assert "5 problems found in 5 events" in str(failure.value)
