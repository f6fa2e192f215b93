"""Deciding an item: confirm or revoke with one click (htmx or a plain form), through the same service as the
API; a revocation removes the access at once, shows its consequences first, and is audited with the reviewer
and the campaign."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.choices import SignOffStatus
from approvals.models import SignOff
from approvals.services import signoff_decide
from identity.choices import ReviewDecision
from identity.reviews.services import access_review_close, access_review_item_decide
from registry.choices import MembershipSource
from registry.models import AuditEvent, Membership
from registry.permissions import has_role, user_team_ids
from tests.approvals.conftest import (  # noqa: F401 (fixtures)
    default_gates,
    feature,
    new_version,
    pins,
    record_evidence,
    request_gate,
)
from tests.identity.reviews_helpers import HTMX, item_of, org, second_governance_admin, start, token_client  # noqa: F401

pytestmark = pytest.mark.django_db


def fresh(user):
    return type(user).objects.get(pk=user.pk)


def decide_url(item):
    return f"/access-reviews/items/{item.pk}/decide/"


def test_the_accountable_owner_confirms_a_team_membership_in_one_click(
    org, team, ml_engineer, product_owner, governance_admin, client
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    client.force_login(product_owner)

    queue = client.get("/access-reviews/").content.decode()
    assert f'id="review-item-{item.pk}"' in queue and "Waiting for you" in queue
    response = client.post(decide_url(item), {"decision": "confirm", "note": "", "next": "/access-reviews/"}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        f'id="review-item-{item.pk}"' in html
        and "confirmed" in html
        and "<form" not in html.split('id="review-progress"')[0]
    )
    assert 'hx-swap-oob="true"' in html  # the progress bar follows
    item.refresh_from_db()
    assert (item.decision, item.decided_by, item.note) == (ReviewDecision.CONFIRMED, product_owner, "")
    event = AuditEvent.objects.get(action="access_review.item_confirmed")
    assert event.actor == product_owner
    assert (
        event.payload["review"] == review.pk and event.payload["user"] == "mel-ml" and event.payload["team"] == "claims"
    )
    assert team.pk in user_team_ids(fresh(ml_engineer))


def test_an_accountable_owner_revokes_a_team_membership_though_not_governance(
    org, team, ml_engineer, product_owner, governance_admin, client
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    client.force_login(product_owner)

    first = client.post(decide_url(item), {"decision": "revoke", "note": "Moved to Payments."}, **HTMX)
    # the identity provider also holds Mel there: that is said before the click is final
    assert first.status_code == 200
    assert "comes back at" in first.content.decode() and "Revoke anyway" in first.content.decode()
    assert team.pk in user_team_ids(fresh(ml_engineer))

    final = client.post(
        decide_url(item), {"decision": "revoke", "note": "Moved to Payments.", "confirmed": "on"}, **HTMX
    )

    assert final.status_code == 200 and "revoked" in final.content.decode()
    assert team.pk not in user_team_ids(fresh(ml_engineer))
    assert not Membership.objects.filter(user=ml_engineer, group=team.group).exists()  # every source
    removed = AuditEvent.objects.get(action="team.member_removed")
    assert removed.actor == product_owner
    assert removed.payload["review"] == {"review": review.pk, "item": item.pk, "name": "2026 Q4 access review"}
    assert removed.payload["reason"] == "Access review “2026 Q4 access review”: Moved to Payments."
    revoked = AuditEvent.objects.get(action="access_review.item_revoked")
    assert revoked.sequence > removed.sequence and revoked.payload["removed"] is True
    item.refresh_from_db()
    assert (item.decision, item.decided_by, item.note) == (ReviewDecision.REVOKED, product_owner, "Moved to Payments.")


def test_revoking_a_role_removes_it_and_withdraws_the_sign_off_given_on_an_open_request(
    new_version, record_evidence, request_gate, security_reviewer, governance_admin, second_governance_admin, client
):
    version = new_version()
    record_evidence(version)
    request = request_gate(version)
    signoff = SignOff.objects.filter(request=request, role="security").first()
    signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve", reason="Fine.")
    review = start(governance_admin)
    item = item_of(review, security_reviewer, role="security")
    client.force_login(second_governance_admin)

    asked = client.post(decide_url(item), {"decision": "revoke", "note": "Left the security team."}, **HTMX)
    assert (
        f"sign-off on request #{request.pk}" in asked.content.decode() and "will be withdrawn" in asked.content.decode()
    )
    signoff.refresh_from_db()
    assert signoff.status == SignOffStatus.APPROVED  # nothing happened yet

    client.post(decide_url(item), {"decision": "revoke", "note": "Left the security team.", "confirmed": "on"}, **HTMX)

    signoff.refresh_from_db()
    assert (signoff.status, signoff.signer) == (SignOffStatus.PENDING, None)
    assert not has_role(fresh(security_reviewer), "security")
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", flat=True))[-3:]
    assert actions == ["signoff.withdrawn", "role.revoked", "access_review.item_revoked"]
    assert AuditEvent.objects.get(action="role.revoked").actor == second_governance_admin


def test_without_javascript_the_consequences_are_a_page_and_the_decision_a_redirect(
    org, team, ml_engineer, product_owner, governance_admin, client
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    client.force_login(product_owner)

    asked = client.post(decide_url(item), {"decision": "revoke", "note": "Gone.", "next": "/access-reviews/"})
    assert (
        asked.status_code == 200
        and "<h1>Revoke" in asked.content.decode()
        and "comes back at" in asked.content.decode()
    )

    done = client.post(
        decide_url(item), {"decision": "revoke", "note": "Gone.", "confirmed": "on", "next": "/access-reviews/"}
    )
    assert done.status_code == 302 and done["Location"] == "/access-reviews/"
    assert "Revoked the Claims team of" in client.get("/access-reviews/").content.decode()

    # a confirmation without consequences is final at once; an unsafe next is not followed
    other = item_of(review, governance_admin, role="governance")
    client.force_login(governance_admin.__class__.objects.get(username="gus-governance"))
    confirmed = client.post(decide_url(other), {"decision": "confirm", "next": "https://evil.example/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/access-reviews/{review.pk}/"


def test_a_revocation_needs_a_note(org, team, ml_engineer, product_owner, governance_admin, client):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    client.force_login(product_owner)

    inline = client.post(decide_url(item), {"decision": "revoke", "note": "  "}, **HTMX)
    page = client.post(decide_url(item), {"decision": "revoke"})
    api = token_client(product_owner).post(
        f"/api/v1/access-review-items/{item.pk}/decide/", {"decision": "revoke"}, format="json"
    )

    assert inline.status_code == 422 and "Say why you revoke it" in inline.content.decode()
    assert page.status_code == 422 and "Say why you revoke it" in page.content.decode()
    assert api.status_code == 400 and api.json()["code"] == "invalid" and "note" in api.json()
    assert team.pk in user_team_ids(fresh(ml_engineer))
    item.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING


def test_nobody_decides_their_own_access(governance_admin, second_governance_admin, client):
    review = start(governance_admin)
    own = item_of(review, governance_admin, role="governance")
    client.force_login(governance_admin)

    inline = client.post(decide_url(own), {"decision": "confirm"}, **HTMX)
    page = client.post(decide_url(own), {"decision": "confirm"})
    api = token_client(governance_admin).post(
        f"/api/v1/access-review-items/{own.pk}/decide/", {"decision": "confirm"}, format="json"
    )

    assert inline.status_code == 422 and "Nobody reviews their own access" in inline.content.decode()
    assert page.status_code == 403
    assert api.status_code == 403 and api.json()["code"] == "separation_of_duties"
    assert not own.review.items.exclude(decision=ReviewDecision.PENDING).exists()
    queue = client.get("/access-reviews/").content.decode()
    assert f'id="review-item-{own.pk}"' not in queue


def test_someone_the_item_is_not_put_to_is_refused(
    org, team, ml_engineer, other_product_owner, auditor, governance_admin, client
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)

    client.force_login(other_product_owner)
    assert client.post(decide_url(item), {"decision": "confirm"}).status_code == 404
    assert (
        token_client(other_product_owner)
        .post(f"/api/v1/access-review-items/{item.pk}/decide/", {"decision": "confirm"}, format="json")
        .status_code
        == 404
    )
    client.force_login(auditor)  # reads every item, decides none
    assert client.post(decide_url(item), {"decision": "confirm"}).status_code == 403
    api = token_client(auditor).post(
        f"/api/v1/access-review-items/{item.pk}/decide/", {"decision": "confirm"}, format="json"
    )
    assert api.status_code == 403 and api.json()["code"] == "not_eligible"
    client.force_login(governance_admin)  # governance, but the item is the owner's until it is escalated
    assert client.post(decide_url(item), {"decision": "confirm"}).status_code == 403
    item.refresh_from_db()
    assert item.decision == ReviewDecision.PENDING


def test_once_escalated_any_governance_admin_decides_the_item(org, team, ml_engineer, governance_admin, client):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    review.items.update(escalated_at=timezone.now())
    client.force_login(governance_admin)

    assert f'id="review-item-{item.pk}"' in client.get("/access-reviews/").content.decode()
    client.post(decide_url(item), {"decision": "confirm", "note": "Still on the team."}, **HTMX)

    item.refresh_from_db()
    assert (item.decision, item.decided_by) == (ReviewDecision.CONFIRMED, governance_admin)
    assert AuditEvent.objects.get(action="access_review.item_confirmed").payload["escalated"] is True


def test_a_decided_item_and_a_closed_campaign_take_no_more_decisions(
    org, team, ml_engineer, product_owner, governance_admin, client
):
    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    access_review_item_decide(actor=product_owner, item=item, decision="confirm")
    client.force_login(product_owner)

    again = client.post(decide_url(item), {"decision": "revoke", "note": "Changed my mind.", "confirmed": "on"}, **HTMX)
    assert again.status_code == 422 and "Already confirmed by pat-product" in again.content.decode()
    api = token_client(product_owner).post(
        f"/api/v1/access-review-items/{item.pk}/decide/", {"decision": "revoke", "note": "x"}, format="json"
    )
    assert api.status_code == 409 and api.json()["code"] == "already_decided"

    access_review_close(actor=governance_admin, review=review, close_anyway=True)
    other = item_of(review, product_owner, team=team)
    closed = token_client(governance_admin).post(
        f"/api/v1/access-review-items/{other.pk}/decide/", {"decision": "confirm"}, format="json"
    )
    assert closed.status_code == 409 and "closed" in closed.json()["detail"]
    assert team.pk in user_team_ids(fresh(ml_engineer))


def test_confirming_access_that_is_gone_is_refused_and_revoking_it_records_that(
    org, team, ml_engineer, product_owner, governance_admin
):
    from registry.services import team_member_remove

    review = start(governance_admin)
    item = item_of(review, ml_engineer, team=team)
    team_member_remove(actor=governance_admin, team=team, user=ml_engineer, reason="Left.")

    from core.exceptions import Conflict

    with pytest.raises(Conflict, match="no longer holds the Claims team"):
        access_review_item_decide(actor=product_owner, item=item, decision="confirm")
    access_review_item_decide(actor=product_owner, item=item, decision="revoke", note="Already gone.")
    assert AuditEvent.objects.get(action="access_review.item_revoked").payload["removed"] is False


def test_the_last_governance_admin_keeps_the_role_even_through_a_review(governance_admin, second_governance_admin):
    from django.core.exceptions import ValidationError

    review = start(governance_admin)
    access_review_item_decide(
        actor=second_governance_admin,
        item=item_of(review, governance_admin, role="governance"),
        decision="revoke",
        note="Rotating out.",
    )
    with pytest.raises(ValidationError, match="last active governance admin"):
        access_review_item_decide(
            actor=governance_admin,
            item=item_of(review, second_governance_admin, role="governance"),
            decision="revoke",
            note="x",
        )
