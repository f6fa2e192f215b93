"""One visibility rule for gates: holding a role a request needs does not open a restricted feature.

Eligibility to sign = holds the role *and* may see the feature. Governance brings a named reviewer in with
an audited reviewer grant that expires on its own; without one, nobody outside the team can see, count,
be told about or sign the feature's requests, and the request says who could sign.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from approvals.choices import SignOffStatus
from approvals.models import SignOff
from approvals.selectors import eligible_signers, queue_count, unstaffed_roles
from approvals.services import signoff_decide, signoff_reminders_send
from registry.models import AuditEvent, Notification, ReviewerGrant
from registry.selectors import features_visible_to
from registry.services import (
    reviewer_grant_create,
    reviewer_grant_revoke,
    reviewer_grants_expire,
    version_create,
    version_submit,
)
from tests.approvals.conftest import fresh, pending_signoff
from tests.approvals.test_api import QUEUE, REQUESTS, as_user, decide_url
from tests.factories import FeatureFactory, UserFactory


@pytest.fixture
def restricted_request(ml_engineer, team, pins, eu, us, request_gate):
    """A restricted feature of the team (Claims) with a pending production request."""
    restricted = FeatureFactory(
        slug="fraud-signals",
        name="Fraud signals",
        team=team,
        restricted=True,
        regions=[eu, us],
        rollback_path="Flag.",
        monitors="https://grafana.example.test/d/f",
    )
    version = version_submit(
        actor=ml_engineer,
        version=version_create(actor=ml_engineer, feature=restricted, change_summary="First.", **pins),
    )
    return request_gate(version)


def grant(governance_admin, request, user, *, days=7):
    return reviewer_grant_create(
        actor=governance_admin,
        feature=request.version.feature,
        user=user,
        reason="Org-wide security review.",
        expires_at=timezone.now() + timedelta(days=days),
    )


def signed_in(user, password):
    client = Client()
    assert client.login(username=user.username, password=password)
    return client


def test_a_role_holder_outside_the_team_finds_no_trace_of_a_restricted_request(
    security_reviewer, restricted_request, password
):
    request = restricted_request
    signoff = pending_signoff(request, "security")
    api = as_user(security_reviewer)

    assert api.get(QUEUE).json()["count"] == 0
    assert api.get(REQUESTS).json()["count"] == 0
    assert api.get(f"{REQUESTS}{request.pk}/").status_code == 404
    assert api.get(f"/api/v1/signoffs/{signoff.pk}/").status_code == 404
    assert api.post(decide_url(signoff), {"decision": "approve"}, format="json").status_code == 404
    assert fresh(signoff).status == SignOffStatus.PENDING
    assert queue_count(security_reviewer) == 0

    page = signed_in(security_reviewer, password)
    assert "Fraud" not in page.get("/approvals/queue/").content.decode()
    assert "Fraud" not in page.get("/approvals/requests/").content.decode()
    assert page.get(f"/approvals/requests/{request.pk}/").status_code == 404
    assert page.post(f"/approvals/signoffs/{signoff.pk}/decide/", {"decision": "approve"}).status_code == 404
    # Nor was the reviewer told about it.
    assert not Notification.objects.filter(user=security_reviewer).exists()


def test_the_service_refuses_a_signature_from_someone_who_may_not_see_the_feature(
    security_reviewer, restricted_request
):
    signoff = pending_signoff(restricted_request, "security")

    with pytest.raises(SignOff.DoesNotExist):
        signoff_decide(actor=security_reviewer, signoff=signoff, decision="approve")


def test_a_request_nobody_eligible_can_sign_says_so_and_governance_is_told(
    security_reviewer, legal_reviewer, governance_admin, restricted_request, password
):
    request = restricted_request

    assert set(unstaffed_roles(request)) >= {"security", "legal"}
    event = AuditEvent.objects.get(action="approval.requested", object_id=str(request.pk))
    assert set(event.payload["unstaffed"]) >= {"security", "legal"}
    told = Notification.objects.get(user=governance_admin, key=f"signoff-unstaffed:{request.pk}")
    assert "Grant a reviewer" in told.body

    page = signed_in(governance_admin, password).get(f"/approvals/requests/{request.pk}/").content.decode()
    assert "Nobody who may see this feature can give the Legal reviewer" in page
    assert "/features/fraud-signals/reviewers/new/" in page


def test_governance_grants_a_reviewer_who_then_sees_and_signs_and_the_grant_expires(
    security_reviewer, governance_admin, restricted_request, password
):
    request = restricted_request
    signoff = pending_signoff(request, "security")

    granted = grant(governance_admin, request, security_reviewer)

    assert granted.is_active()
    assert AuditEvent.objects.filter(action="reviewer_grant.created", feature=request.version.feature).exists()
    assert Notification.objects.filter(user=security_reviewer, key=f"reviewer-grant:{granted.pk}").exists()
    assert security_reviewer in eligible_signers(request)["security"]
    assert queue_count(security_reviewer) == 1
    api = as_user(security_reviewer)
    assert [item["request"] for item in api.get(QUEUE).json()["results"]] == [request.pk]
    assert api.get(f"{REQUESTS}{request.pk}/").status_code == 200
    assert api.post(decide_url(signoff), {"decision": "approve"}, format="json").status_code == 200
    assert fresh(signoff).signer == security_reviewer

    # The grant ends on its own: from its expiry the feature is gone again, before any sweep runs.
    ReviewerGrant.objects.filter(pk=granted.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert not features_visible_to(security_reviewer).filter(pk=request.version.feature_id).exists()
    assert api.get(f"{REQUESTS}{request.pk}/").status_code == 404
    assert signed_in(security_reviewer, password).get("/features/fraud-signals/").status_code == 404
    # The sweep records the end in the trail, once.
    assert reviewer_grants_expire() == 1
    assert reviewer_grants_expire() == 0
    assert fresh(granted).ended_at is not None
    assert AuditEvent.objects.filter(action="reviewer_grant.expired").count() == 1


def test_a_revoked_grant_ends_access_at_once(security_reviewer, governance_admin, restricted_request):
    granted = grant(governance_admin, restricted_request, security_reviewer)

    reviewer_grant_revoke(actor=governance_admin, grant=granted, reason="Review done.")

    assert not features_visible_to(security_reviewer).filter(pk=restricted_request.version.feature_id).exists()
    assert queue_count(security_reviewer) == 0
    assert AuditEvent.objects.filter(action="reviewer_grant.revoked").exists()


def test_only_governance_grants_and_only_for_a_reason_and_a_bounded_period(
    security_reviewer, ml_engineer, product_owner, governance_admin, auditor, restricted_request
):
    feature = restricted_request.version.feature
    soon = timezone.now() + timedelta(days=7)

    with pytest.raises(PermissionDenied):
        reviewer_grant_create(actor=ml_engineer, feature=feature, user=security_reviewer, reason="x", expires_at=soon)
    for user, reason, expires_at, field in (
        (security_reviewer, "  ", soon, "reason"),
        (security_reviewer, "x", timezone.now() - timedelta(minutes=1), "expires_at"),
        (security_reviewer, "x", timezone.now() + timedelta(days=400), "expires_at"),
        (product_owner, "x", soon, "user"),  # already sees it: the team
        (auditor, "x", soon, "user"),  # already sees everything
    ):
        with pytest.raises(ValidationError) as refused:
            reviewer_grant_create(
                actor=governance_admin, feature=feature, user=user, reason=reason, expires_at=expires_at
            )
        assert field in refused.value.message_dict
    open_feature = FeatureFactory(slug="open-one", restricted=False)
    with pytest.raises(ValidationError):
        reviewer_grant_create(
            actor=governance_admin, feature=open_feature, user=security_reviewer, reason="x", expires_at=soon
        )
    assert not ReviewerGrant.objects.exists()


def test_the_queue_badge_counts_only_what_the_user_may_sign(ml_engineer, second_ml_engineer, new_version, request_gate):
    """The author holds the ml role but may not sign their own version; a second engineer may."""
    request = request_gate(new_version())

    assert queue_count(ml_engineer) == 0
    assert queue_count(second_ml_engineer) == 1
    signoff_decide(actor=second_ml_engineer, signoff=pending_signoff(request, "ml"), decision="approve")
    assert queue_count(second_ml_engineer) == 0


def test_who_may_not_sign_sees_no_sign_buttons_only_why(
    ml_engineer, second_ml_engineer, new_version, request_gate, password
):
    request = request_gate(new_version())

    author_page = signed_in(ml_engineer, password).get(f"/approvals/requests/{request.pk}/").content.decode()
    reviewer_page = signed_in(second_ml_engineer, password).get(f"/approvals/requests/{request.pk}/").content.decode()

    assert 'value="approve"' not in author_page
    assert "You cannot sign this: You wrote this version" in author_page
    assert "Who may sign:" in author_page
    assert reviewer_page.count('value="approve"') == 1  # the ml slot only


def test_reminders_go_only_to_people_who_may_see_the_feature(security_reviewer, governance_admin, restricted_request):
    outside = UserFactory(username="sue-security", roles=["security"])
    grant(governance_admin, restricted_request, security_reviewer)
    SignOff.objects.filter(request=restricted_request).update(created_at=timezone.now() - timedelta(days=5))

    signoff_reminders_send()

    assert Notification.objects.filter(user=security_reviewer, key__startswith="signoff-reminder:").exists()
    assert not Notification.objects.filter(user=outside).exists()


def test_reviewer_grants_through_the_api(security_reviewer, governance_admin, ml_engineer, restricted_request):
    body = {
        "feature": "fraud-signals",
        "user": security_reviewer.username,
        "reason": "Security review.",
        "expires_at": (timezone.now() + timedelta(days=3)).isoformat(),
    }

    assert as_user(ml_engineer).post("/api/v1/reviewer-grants/", body, format="json").status_code == 403
    # Someone who may not see the feature cannot even name it.
    assert as_user(security_reviewer).post("/api/v1/reviewer-grants/", body, format="json").status_code == 400
    created = as_user(governance_admin).post("/api/v1/reviewer-grants/", body, format="json")
    assert created.status_code == 201, created.content
    grant = created.json()
    assert (grant["feature"], grant["user"], grant["active"]) == ("fraud-signals", security_reviewer.username, True)
    listed = as_user(ml_engineer).get("/api/v1/reviewer-grants/", {"feature": "fraud-signals"}).json()
    assert [item["id"] for item in listed["results"]] == [grant["id"]]

    revoke = f"/api/v1/reviewer-grants/{grant['id']}/revoke/"
    assert as_user(governance_admin).post(revoke, {}, format="json").status_code == 400  # a reason is required
    revoked = as_user(governance_admin).post(revoke, {"reason": "Done."}, format="json")
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    assert as_user(governance_admin).post(revoke, {"reason": "Again."}, format="json").status_code == 409
    assert as_user(security_reviewer).get(f"/api/v1/reviewer-grants/{grant['id']}/").status_code == 404


def test_governance_grants_and_revokes_on_the_features_pages(
    security_reviewer, governance_admin, ml_engineer, restricted_request, password
):
    admin = signed_in(governance_admin, password)
    new = "/features/fraud-signals/reviewers/new/"

    form = admin.get(new).content.decode()
    assert security_reviewer.username in form and ml_engineer.username not in form  # the team already sees it
    refused = admin.post(new, {"user": security_reviewer.pk, "days": 7, "reason": ""})
    assert refused.status_code == 200 and "This field is required" in refused.content.decode()
    assert admin.post(new, {"user": security_reviewer.pk, "days": 400, "reason": "Review."}).status_code == 200
    assert not ReviewerGrant.objects.exists()
    done = admin.post(new, {"user": security_reviewer.pk, "days": 7, "reason": "Security review."})
    assert done.status_code == 302 and done["Location"] == "/features/fraud-signals/#reviewers"
    granted = ReviewerGrant.objects.get()

    feature_page = signed_in(ml_engineer, password).get("/features/fraud-signals/").content.decode()
    assert "Security review." in feature_page and "Revoke…" not in feature_page  # the team reads, governance acts
    revoke = f"/features/fraud-signals/reviewers/{granted.pk}/revoke/"
    assert "Revoke access" in admin.get(revoke).content.decode()  # a confirmation first
    assert admin.post(revoke, {"reason": ""}).status_code == 200 and fresh(granted).ended_at is None
    assert admin.post(revoke, {"reason": "Review done."}).status_code == 302
    assert fresh(granted).ended_by == governance_admin
    assert "revoked" in admin.get("/features/fraud-signals/").content.decode()


def test_the_api_names_who_may_still_sign_and_leaves_out_who_may_not_see_the_feature(
    security_reviewer, governance_admin, ml_engineer, restricted_request
):
    url = f"{REQUESTS}{restricted_request.pk}/"

    def security_signers():
        body = as_user(ml_engineer).get(url).json()
        return [signoff["eligible_signers"] for signoff in body["signoffs"] if signoff["role"] == "security"]

    assert security_signers() == [[]]
    grant(governance_admin, restricted_request, security_reviewer)
    assert security_signers() == [[security_reviewer.username]]
