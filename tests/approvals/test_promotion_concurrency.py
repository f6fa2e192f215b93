"""Promotions, rollbacks and sign-offs racing on one feature leave one live pointer per region, an unbroken
history of each pointer, every sign-off signed once, and a whole audit chain. Needs PostgreSQL: SQLite
serialises writers and has no row locks."""

from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, SignOff
from approvals.services import promotion_execute, signoff_decide
from core.exceptions import Conflict
from registry.models import AuditEvent, Deployment, DeploymentEvent
from registry.services import audit_verify, deployment_rollback
from tests.approvals.conftest import fresh
from tests.concurrency import run_at_once
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 20


def reload(user):
    return get_user_model().objects.get(pk=user.pk)


def assert_one_pointer_per_region_with_a_consistent_history(feature):
    per_pointer = Deployment.objects.filter(feature=feature).values("environment", "region").annotate(rows=Count("id"))
    assert {row["rows"] for row in per_pointer} == {1}
    for deployment in Deployment.objects.filter(feature=feature):
        chain = list(
            DeploymentEvent.objects.filter(
                feature=feature, environment=deployment.environment, region=deployment.region
            )
            .order_by("at", "id")
            .values_list("from_version_id", "to_version_id", "id")
        )
        assert chain, f"{deployment} has no history"
        assert [event_id for _, _, event_id in chain] == sorted(event_id for _, _, event_id in chain)
        previous = None
        for from_id, to_id, _ in chain:
            assert from_id == previous, f"history of {deployment} skips a step: {chain}"
            assert from_id != to_id
            previous = to_id
        assert previous == deployment.version_id


def test_promotions_rollbacks_and_sign_offs_racing_on_one_feature_stay_consistent(
    feature, eu, us, ml_engineer, product_owner, new_version, record_evidence, go_live, approved_request, request_gate
):
    v1 = new_version(summary="First release.")
    go_live(v1)
    v2 = new_version(summary="Second release.")
    to_promote = approved_request(v2)
    v3 = new_version(summary="Third release.")
    record_evidence(v3)
    to_sign = request_gate(v3)
    signers = {
        "security": [UserFactory(username=f"sec-{n}", roles=["security"]) for n in range(3)],
        "legal": [UserFactory(username=f"legal-{n}", roles=["legal"]) for n in range(3)],
        "ml": [UserFactory(username=f"ml-{n}", roles=["ml"]) for n in range(2)],
        "product": [UserFactory(username=f"product-{n}", roles=["product"]) for n in range(2)],
    }
    signing_plan = [
        (role, person)
        for index in range(3)
        for role, people in signers.items()
        if index < len(people)
        for person in [people[index]]
    ]
    assert len(signing_plan) == 10
    signing_workers = [index for index in range(THREADS) if index % 4 in (2, 3)]
    signoff_ids = dict(SignOff.objects.filter(request=to_sign).values_list("role", "pk"))

    def work(index):
        if index % 4 == 0:
            return "promote", promotion_execute(actor=reload(product_owner), request=to_promote)
        if index % 4 == 1:
            region = eu if index % 8 == 1 else us
            return "rollback", deployment_rollback(
                actor=reload(ml_engineer),
                feature=feature,
                environment="production",
                region=region,
                reason=f"Worker {index} saw errors.",
            )
        role, person = signing_plan[signing_workers.index(index)]
        signoff = SignOff.objects.get(pk=signoff_ids[role])
        return "sign", signoff_decide(actor=reload(person), signoff=signoff, decision="approve")

    outcomes = run_at_once(THREADS, work)

    unexpected = [
        o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, (Conflict, ValidationError))
    ]
    assert not unexpected, unexpected
    assert not [o for o in outcomes if isinstance(o, PermissionDenied)]
    assert_one_pointer_per_region_with_a_consistent_history(feature)
    assert set(Deployment.objects.filter(feature=feature).values_list("region__code", flat=True)) == {"eu", "us"}
    for region in (eu, us):  # the approved v2 went live in each region at least once
        assert DeploymentEvent.objects.filter(feature=feature, region=region, kind="promoted", to_version=v2).exists()

    signoffs = list(SignOff.objects.filter(request=to_sign))
    assert {signoff.status for signoff in signoffs} == {SignOffStatus.APPROVED}
    assert len({signoff.signer_id for signoff in signoffs}) == len(signoffs)
    signed = Counter(
        event.payload["signoff"]
        for event in AuditEvent.objects.filter(action="signoff.approved", object_id=str(to_sign.pk))
    )
    assert signed == {signoff.pk: 1 for signoff in signoffs}
    assert fresh(to_sign).status == RequestStatus.APPROVED
    assert AuditEvent.objects.filter(action="approval.approved", object_id=str(to_sign.pk)).count() == 1
    assert AuditEvent.objects.filter(action__in=["deployment.promoted", "deployment.rolled_back"]).count() == (
        DeploymentEvent.objects.filter(feature=feature).count()
    )
    verification = audit_verify()
    assert verification.ok, verification.message


def test_twenty_promotions_of_one_approval_at_once_flip_each_region_once(
    feature, eu, us, product_owner, new_version, approved_request
):
    request = approved_request(new_version())

    outcomes = run_at_once(THREADS, lambda index: promotion_execute(actor=reload(product_owner), request=request))

    succeeded = [o for o in outcomes if isinstance(o, list)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(succeeded) == 1, outcomes
    assert len(refused) == THREADS - 1, outcomes
    # The request row is locked first, so the losers see the winner's promotion: an approval promotes once.
    assert all("An approval promotes once" in str(error) for error in refused), refused
    assert Counter(DeploymentEvent.objects.filter(feature=feature).values_list("region__code", flat=True)) == {
        "eu": 1,
        "us": 1,
    }
    assert Deployment.objects.filter(feature=feature).count() == 2
    assert AuditEvent.objects.filter(action="deployment.promoted").count() == 2
    assert ApprovalRequest.objects.get(pk=request.pk).status == RequestStatus.APPROVED
    verification = audit_verify()
    assert verification.ok, verification.message
