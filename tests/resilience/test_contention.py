"""Twenty people acting on one feature at the same moment: promoting an approved version, rolling back
(some to a version that never served), and signing a pending request (two or three people racing for each slot, the
author trying to sign, one person holding two roles). Exactly the allowed transitions happen, nothing is
lost, and the audit chain is whole with no gap in its sequence. Needs PostgreSQL: SQLite serialises writers
and has no row locks."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from approvals.services import promotion_execute, signoff_decide
from core.exceptions import Conflict
from registry.choices import DeploymentEventKind
from registry.models import AuditEvent, Deployment, DeploymentEvent
from registry.services import audit_verify, deployment_rollback
from tests.approvals.conftest import fresh
from tests.concurrency import run_at_once
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def reload(user):
    return get_user_model().objects.get(pk=user.pk)


def pointer_histories(feature):
    """{(environment, region_id): [(kind, from_version_id, to_version_id), ...]} in the order written."""
    histories = {}
    for kind, environment, region_id, from_id, to_id in (
        DeploymentEvent.objects.filter(feature=feature)
        .order_by("at", "id")
        .values_list("kind", "environment", "region_id", "from_version_id", "to_version_id")
    ):
        histories.setdefault((environment, region_id), []).append((kind, from_id, to_id))
    return histories


def test_twenty_people_promoting_rolling_back_and_signing_one_feature_at_once(
    feature,
    eu,
    us,
    ml_engineer,
    product_owner,
    second_ml_engineer,
    new_version,
    record_evidence,
    go_live,
    approved_request,
    request_gate,
):
    v1 = new_version(summary="First release.")
    go_live(v1)
    v2 = new_version(summary="Second release.")
    go_live(v2)
    v3 = new_version(summary="Third release.")
    to_promote = approved_request(v3)
    v4 = new_version(summary="Fourth release.")
    record_evidence(v4)
    to_sign = request_gate(v4)  # requested by the ML engineer, who also wrote v4
    never_served = new_version(summary="Submitted, never approved.")
    events_before = DeploymentEvent.objects.filter(feature=feature).count()

    slots = {(s.role, s.slot): s.pk for s in SignOff.objects.filter(request=to_sign)}
    assert set(slots) == {("ml", 1), ("security", 1), ("legal", 1), ("product", 1)}
    dual = UserFactory(username="dual-sec-legal", roles=["security", "legal"])
    contenders = [  # eligible people race for each slot; the author may not sign; ``dual`` tries two roles
        (("ml", 1), second_ml_engineer),
        (("ml", 1), UserFactory(username="ml-b", roles=["ml"])),
        (("ml", 1), ml_engineer),
        (("security", 1), dual),
        (("security", 1), UserFactory(username="sec-b", roles=["security"])),
        (("security", 1), UserFactory(username="sec-c", roles=["security"])),
        (("legal", 1), dual),
        (("legal", 1), UserFactory(username="legal-b", roles=["legal"])),
        (("legal", 1), UserFactory(username="legal-c", roles=["legal"])),
        (("product", 1), UserFactory(username="product-b", roles=["product"])),
        (("product", 1), UserFactory(username="product-c", roles=["product"])),
    ]
    rollbacks = [  # (actor, region, explicit target)
        (ml_engineer, eu, None),
        (product_owner, us, None),
        (ml_engineer, us, None),
        (product_owner, eu, None),
        (ml_engineer, eu, never_served),
    ]
    plan = [("promote", None)] * 4 + [("rollback", r) for r in rollbacks] + [("sign", c) for c in contenders]
    assert len(plan) == THREADS

    def work(index):
        kind, detail = plan[index]
        if kind == "promote":
            return promotion_execute(actor=reload(product_owner), request=fresh(to_promote))
        if kind == "rollback":
            actor, region, target = detail
            return deployment_rollback(
                actor=reload(actor),
                feature=feature,
                environment="production",
                region=region,
                reason=f"Worker {index} saw errors.",
                to_version=target,
            )
        slot, person = detail
        return signoff_decide(actor=reload(person), signoff=SignOff.objects.get(pk=slots[slot]), decision="approve")

    outcomes = run_at_once(THREADS, work)
    by_kind = {kind: [o for (k, _), o in zip(plan, outcomes) if k == kind] for kind in ("promote", "rollback", "sign")}

    unexpected = [
        o
        for o in outcomes
        if isinstance(o, BaseException) and not isinstance(o, (Conflict, ValidationError, PermissionDenied))
    ]
    assert not unexpected, unexpected

    # One promotion per approved request: one winner, the others told it already promoted.
    assert len([o for o in by_kind["promote"] if isinstance(o, list)]) == 1, by_kind["promote"]
    assert all(isinstance(o, Conflict) for o in by_kind["promote"] if not isinstance(o, list)), by_kind["promote"]
    assert Counter(
        DeploymentEvent.objects.filter(feature=feature, kind=DeploymentEventKind.PROMOTED, to_version=v3).values_list(
            "region__code", flat=True
        )
    ) == {"eu": 1, "us": 1}

    # Rollbacks only to eligible versions: the one aimed at a version that never served is refused (as not
    # possible, or, when the others have used up every earlier version, as having nothing to return to).
    assert isinstance(by_kind["rollback"][-1], (ValidationError, Conflict)), by_kind["rollback"][-1]
    rolled_back = [o for o in by_kind["rollback"] if isinstance(o, DeploymentEvent)]
    assert all(isinstance(o, (DeploymentEvent, Conflict, ValidationError)) for o in by_kind["rollback"])
    assert not DeploymentEvent.objects.filter(feature=feature, to_version=never_served).exists()
    assert DeploymentEvent.objects.filter(feature=feature).count() == events_before + 2 + len(rolled_back)

    # No lost update: each pointer is the end of an unbroken history; every rollback returned to a
    # version that had served in that region before.
    pointers = {(d.environment, d.region_id): d.version_id for d in Deployment.objects.filter(feature=feature)}
    assert set(pointers) == {("production", eu.pk), ("production", us.pk)}
    for key, history in pointer_histories(feature).items():
        previous, served = None, set()
        for kind, from_id, to_id in history:
            assert from_id == previous, f"history of {key} skips a step: {history}"
            assert to_id != from_id
            if kind == DeploymentEventKind.ROLLED_BACK:
                assert to_id in served, f"rollback in {key} to a version that never served there: {history}"
            served.add(to_id)
            previous = to_id
        assert previous == pointers[key], f"pointer {key} is not its last event's target: {history}"

    # Sign-offs: every slot signed once, by different people; the author was refused; nobody signed two roles.
    author_outcome = by_kind["sign"][2]
    assert isinstance(author_outcome, PermissionDenied), author_outcome
    signoffs = list(SignOff.objects.filter(request=to_sign))
    assert {s.status for s in signoffs} == {SignOffStatus.APPROVED}
    assert len({s.signer_id for s in signoffs}) == len(signoffs) == 4
    assert ml_engineer.pk not in {s.signer_id for s in signoffs}
    assert len([o for o in by_kind["sign"] if isinstance(o, SignOff)]) == 4
    signed = Counter(
        e.payload["signoff"] for e in AuditEvent.objects.filter(action="signoff.approved", object_id=str(to_sign.pk))
    )
    assert signed == {s.pk: 1 for s in signoffs}
    assert fresh(to_sign).status == RequestStatus.APPROVED
    assert AuditEvent.objects.filter(action="approval.approved", object_id=str(to_sign.pk)).count() == 1

    # The audit trail: one event per pointer change, no gap in the sequence, the chain verifies.
    assert AuditEvent.objects.filter(action__in=["deployment.promoted", "deployment.rolled_back"]).count() == (
        DeploymentEvent.objects.filter(feature=feature).count()
    )
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))
    verification = audit_verify()
    assert verification.ok, verification.message
    assert verification.checked == len(sequences)
