"""The gate pages, through the browser's eyes (the Django test client): every separation-of-duties rule
refuses with a message (inline, as a 422, when htmx asks), the request form and the review page show
what a reviewer needs, the queue lists the user's roles oldest first, promotion and rollback go through
their confirmation pages, and governance edits gates with an audit trail."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, SignOff
from registry.models import AuditEvent, Deployment, DeploymentEvent, Notification
from registry.services import version_create, version_submit
from tests.approvals.conftest import days_ago, fresh, pending_signoff, policy_post_data
from tests.factories import PromptVersionFactory, UserFactory

HTMX = {"HX-Request": "true"}


@pytest.fixture
def version(new_version, record_evidence):
    """v1 of the high-risk feature, written by the team's ML engineer, with every piece of evidence."""
    version = new_version()
    record_evidence(version)
    return version


@pytest.fixture
def ml_two(team):
    """A second ML engineer of the team: writes versions of their own."""
    return UserFactory(username="ml-two", roles=["ml"], teams=[team])


def decide(client, signoff, decision, reason="", *, htmx=False, follow=False):
    return client.post(
        reverse("approvals:signoff_decide", args=[signoff.pk]),
        {"decision": decision, "reason": reason},
        headers=HTMX if htmx else {},
        follow=follow,
    )


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_still_pending(signoff):
    stored = fresh(signoff)
    assert (stored.status, stored.signer_id) == (SignOffStatus.PENDING, None)
    assert stored.request.status == RequestStatus.PENDING


def inline_error(text):
    return f'<div class="inline-error" role="alert">{text}</div>'


def other_prompt_version(feature, author, pins):
    """The next version of ``feature`` with a different prompt, so a diff against the live one shows a change."""
    prompt = PromptVersionFactory(name="triage", version=2, template="Sort this claim, briefly: {{ claim }}")
    version = version_create(
        actor=author, feature=feature, change_summary="Shorter prompt.", **{**pins, "prompt": prompt}
    )
    return version_submit(actor=author, version=version)


# --- Separation of duties, one rule at a time ----------------------------------------------------

AUTHOR_REFUSAL = "You wrote this version, so someone else must review it (separation of duties)."
REQUESTER_REFUSAL = "You requested this gate, so someone else must review it (separation of duties)."
ONE_ROLE_REFUSAL = "You already signed this request as security reviewer; a person signs at most one role of a request."
REASON_REQUIRED = "Say why you reject: the requester needs to know what to fix."


def test_the_author_cannot_sign_and_is_told_why(client, ml_engineer, product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)
    ml = pending_signoff(request, "ml")
    client.force_login(ml_engineer)

    response = decide(client, ml, "approve", "My own work is fine.", follow=True)

    assert response.redirect_chain == [(request.get_absolute_url(), 302)]
    assert messages_of(response) == [AUTHOR_REFUSAL]
    assert_still_pending(ml)


def test_the_author_is_refused_inline_with_422_under_htmx(client, ml_engineer, product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)
    ml = pending_signoff(request, "ml")
    client.force_login(ml_engineer)

    response = decide(client, ml, "approve", "My own work is fine.", htmx=True)

    assert response.status_code == 422
    assert response.templates[0].name == "approvals/partials/signoffs.html"
    assert inline_error(AUTHOR_REFUSAL) in response.content.decode()
    assert "My own work is fine." in response.content.decode()  # what they typed is kept
    assert_still_pending(ml)


def test_the_requester_cannot_sign_their_own_request(client, product_owner, version, request_gate):
    request = request_gate(version, actor=product_owner)
    product = pending_signoff(request, "product")
    client.force_login(product_owner)

    response = decide(client, product, "approve", follow=True)
    assert messages_of(response) == [REQUESTER_REFUSAL]
    assert_still_pending(product)

    inline = decide(client, product, "approve", htmx=True)
    assert inline.status_code == 422
    assert inline_error(REQUESTER_REFUSAL) in inline.content.decode()
    assert_still_pending(product)


def test_a_person_signs_at_most_one_role_of_a_request(client, version, request_gate):
    dual_hat = UserFactory(username="dual-hat", roles=["security", "legal"])
    request = request_gate(version)
    client.force_login(dual_hat)

    first = decide(client, pending_signoff(request, "security"), "approve", "Threat model reviewed.", follow=True)
    assert messages_of(first) == ["Recorded your sign-off."]

    legal = pending_signoff(request, "legal")
    second = decide(client, legal, "approve", follow=True)
    assert messages_of(second) == [ONE_ROLE_REFUSAL]
    assert_still_pending(legal)

    inline = decide(client, legal, "approve", htmx=True)
    assert inline.status_code == 422
    assert inline_error(ONE_ROLE_REFUSAL) in inline.content.decode()
    assert_still_pending(legal)


def test_only_holders_of_a_role_sign_for_it(client, support_agent, version, request_gate):
    request = request_gate(version)
    security = pending_signoff(request, "security")
    client.force_login(support_agent)

    response = decide(client, security, "approve", follow=True)
    assert messages_of(response) == ["Only holders of the security reviewer role sign for it."]
    assert_still_pending(security)
    # The page offers no sign-off form for a role the user does not hold.
    assert f'action="{reverse("approvals:signoff_decide", args=[security.pk])}"' not in response.content.decode()

    inline = decide(client, security, "approve", htmx=True)
    assert inline.status_code == 422
    assert inline_error("Only holders of the security reviewer role sign for it.") in inline.content.decode()


def test_rejecting_without_a_reason_is_refused_with_the_message(client, legal_reviewer, version, request_gate):
    request = request_gate(version)
    legal = pending_signoff(request, "legal")
    client.force_login(legal_reviewer)

    response = decide(client, legal, "reject", "   ", follow=True)
    assert messages_of(response) == [REASON_REQUIRED]
    assert_still_pending(legal)

    inline = decide(client, legal, "reject", "", htmx=True)
    assert inline.status_code == 422
    assert inline_error(REASON_REQUIRED) in inline.content.decode()
    assert_still_pending(legal)


def test_a_decision_without_approve_or_reject_is_refused(client, legal_reviewer, version, request_gate):
    legal = pending_signoff(request_gate(version), "legal")
    client.force_login(legal_reviewer)

    response = decide(client, legal, "maybe", follow=True)

    assert messages_of(response) == ["Choose approve or reject."]
    assert_still_pending(legal)


def test_an_eligible_reviewer_signs_inline_under_htmx(client, security_reviewer, version, request_gate):
    request = request_gate(version)
    security = pending_signoff(request, "security")
    client.force_login(security_reviewer)

    response = decide(client, security, "approve", "Threat model reviewed.", htmx=True)

    assert response.status_code == 200
    assert 'class="inline-error"' not in response.content.decode()
    assert "Threat model reviewed." in response.content.decode()
    stored = fresh(security)
    assert (stored.status, stored.signer) == (SignOffStatus.APPROVED, security_reviewer)


def test_one_rejection_rejects_the_whole_request(client, security_reviewer, legal_reviewer, version, request_gate):
    request = request_gate(version)
    client.force_login(security_reviewer)
    decide(client, pending_signoff(request, "security"), "approve", "Fine.", follow=True)
    client.force_login(legal_reviewer)

    response = decide(
        client, pending_signoff(request, "legal"), "reject", "The DPIA does not cover the US.", follow=True
    )

    assert messages_of(response) == ["Recorded your sign-off."]
    assert fresh(request).status == RequestStatus.REJECTED
    page = response.content.decode()
    assert "A new request starts fresh." in page
    assert "The DPIA does not cover the US." in page
    # Nobody can sign the remaining sign-offs of a rejected request; the page offers no form for them.
    assert 'name="decision"' not in page
    assert set(SignOff.objects.filter(request=request).values_list("role", "status")) == {
        ("ml", "pending"),
        ("security", "approved"),
        ("legal", "rejected"),
        ("product", "pending"),
    }


def test_after_a_rejection_a_new_request_starts_fresh(
    client, ml_engineer, legal_reviewer, version, request_gate, eu, us
):
    rejected = request_gate(version)
    client.force_login(legal_reviewer)
    decide(client, pending_signoff(rejected, "legal"), "reject", "The DPIA does not cover the US.")
    client.force_login(ml_engineer)

    response = client.post(
        reverse("approvals:request_create", args=[version.feature.slug, version.number]),
        {"environment": "production", "regions": [eu.pk, us.pk], "note": "DPIA now covers the US."},
    )

    again = ApprovalRequest.objects.exclude(pk=rejected.pk).get(version=version)
    assert response.status_code == 302 and response["Location"] == again.get_absolute_url()
    assert again.status == RequestStatus.PENDING
    assert sorted(again.signoffs.values_list("role", "status", "signer")) == [
        ("legal", "pending", None),
        ("ml", "pending", None),
        ("product", "pending", None),
        ("security", "pending", None),
    ]
    assert fresh(rejected).status == RequestStatus.REJECTED


# --- Requesting and reviewing --------------------------------------------------------------------


def test_the_request_form_creates_a_request_and_lists_the_missing_evidence(client, ml_engineer, new_version, eu, us):
    version = new_version()  # no evaluations yet
    url = reverse("approvals:request_create", args=[version.feature.slug, version.number])
    client.force_login(ml_engineer)

    form_page = client.get(url)
    assert form_page.status_code == 200
    assert "Production gate" in form_page.content.decode()

    response = client.post(
        url, {"environment": "production", "regions": [eu.pk, us.pk], "note": "Tuned prompt."}, follow=True
    )

    request = ApprovalRequest.objects.get(version=version)
    assert response.redirect_chain == [(request.get_absolute_url(), 302)]
    assert request.requester == ml_engineer
    assert sorted(request.regions.values_list("code", flat=True)) == ["eu", "us"]
    assert messages_of(response) == [
        "Requested the gate. The reviewers have been told; missing evidence is listed below."
    ]
    page = response.content.decode()
    assert "3 requirements not met yet" in page
    for missing in (
        "No benchmark evaluation recorded.",
        "No safety evaluation recorded.",
        "No privacy review evaluation recorded.",
    ):
        assert missing in page


def test_the_request_form_refuses_a_version_that_is_not_submitted(client, ml_engineer, new_version, eu):
    draft = new_version(submit=False)
    client.force_login(ml_engineer)

    response = client.post(
        reverse("approvals:request_create", args=[draft.feature.slug, draft.number]),
        {"environment": "production", "regions": [eu.pk]},
    )

    assert response.status_code == 200
    assert "only submitted versions go through a gate" in response.content.decode()
    assert not ApprovalRequest.objects.exists()


def test_the_review_page_shows_configuration_evaluations_checklist_signoffs_and_history(
    client, security_reviewer, version, request_gate
):
    request = request_gate(version)
    client.force_login(security_reviewer)

    response = client.get(request.get_absolute_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing is live in production for these regions yet" in page  # so: the configuration, no diff
    assert "claude-sonnet-4" in page and "triage@1" in page
    assert "benchmark-suite" in page and "privacy_review-suite" in page  # evaluations of the version
    assert "Rollback path" in page and "Monitor" in page and "not met yet" not in page  # readiness checklist
    for role in ("ML engineer", "Security reviewer", "Legal reviewer", "Product owner"):
        assert f"<strong>{role}</strong>" in page  # every sign-off of the gate
    assert f'action="{reverse("approvals:signoff_decide", args=[pending_signoff(request, "security").pk])}"' in page
    assert "approval.requested" in page  # history


def test_the_review_page_diffs_against_the_live_version(
    client, security_reviewer, ml_engineer, feature, pins, version, go_live, request_gate
):
    go_live(version)
    second = other_prompt_version(feature, ml_engineer, pins)
    request = request_gate(second)
    client.force_login(security_reviewer)

    response = client.get(request.get_absolute_url())

    page = response.content.decode()
    assert "What changes against the live version (v1 in production)" in page
    changed = [row["label"] for row in response.context["diff"] if row["changed"]]
    assert changed == ["Prompt version", "Parent version"]
    assert "triage@1" in page and "triage@2" in page


def test_the_queue_lists_pending_signoffs_for_the_users_roles_oldest_first(
    client, ml_engineer, ml_two, product_owner, security_reviewer, version, new_version, request_gate
):
    own = request_gate(version, actor=product_owner)  # v1 by ml_engineer: not theirs to sign
    theirs_to_sign = request_gate(new_version(author=ml_two), actor=product_owner)  # v2 by ml-two
    SignOff.objects.filter(request=theirs_to_sign).update(created_at=days_ago(2))  # waiting longer
    client.force_login(ml_engineer)

    response = client.get(reverse("approvals:queue"))

    rows = response.context["rows"]
    # Only what they may sign: their own version's request is not in their queue (separation of duties).
    assert [(row["signoff"].request_id, row["signoff"].role) for row in rows] == [(theirs_to_sign.pk, "ml")]
    assert rows[0]["refusal"] is None
    page = response.content.decode()
    assert "not yours to sign" not in page
    assert f"{theirs_to_sign.get_absolute_url()}#signoff-{pending_signoff(theirs_to_sign, 'ml').pk}" in page

    client.force_login(security_reviewer)
    security_rows = client.get(reverse("approvals:queue")).context["rows"]
    assert {(row["signoff"].request_id, row["signoff"].role) for row in security_rows} == {
        (own.pk, "security"),
        (theirs_to_sign.pk, "security"),
    }


def test_the_nav_badge_counts_the_users_pending_signoffs(
    client, security_reviewer, outsider, version, new_version, request_gate
):
    request_gate(version)
    request_gate(new_version())
    client.force_login(security_reviewer)

    page = client.get(reverse("approvals:request_list")).content.decode()
    assert '<span class="count-badge" title="Sign-offs waiting for you to sign">2</span>' in page
    # On the queue itself the badge takes the queue's own count, sorted or not, on any page of it.
    for query in ("", "?ordering=-waiting", "?page=1", "?page=9"):
        page = client.get(reverse("approvals:queue") + query).content.decode()
        assert '<span class="count-badge" title="Sign-offs waiting for you to sign">2</span>' in page, query

    client.force_login(outsider)
    page = client.get(reverse("approvals:request_list")).content.decode()
    assert 'title="Sign-offs waiting for you to sign"' not in page


def test_the_request_list_filters_by_status(client, product_owner, version, new_version, request_gate, legal_reviewer):
    rejected = request_gate(version)
    client.force_login(legal_reviewer)
    decide(client, pending_signoff(rejected, "legal"), "reject", "No.")
    pending = request_gate(new_version())
    client.force_login(product_owner)

    everything = client.get(reverse("approvals:request_list")).context["object_list"]
    only_pending = client.get(reverse("approvals:request_list"), {"status": "pending"}).context["object_list"]

    assert [request.pk for request in everything] == [pending.pk, rejected.pk]
    assert [request.pk for request in only_pending] == [pending.pk]


# --- Promotion and rollback --------------------------------------------------------------------


def test_the_promote_page_confirms_before_promoting(client, product_owner, feature, version, approved_request):
    request = approved_request(version)
    url = reverse("approvals:promote", args=[request.pk])
    client.force_login(product_owner)

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Nothing is live there yet." in confirm.content.decode()
    assert not Deployment.objects.exists()

    response = client.post(url, {"reason": "CHG-1234"}, follow=True)

    assert response.redirect_chain == [(feature.get_absolute_url() + "#live", 302)]
    assert messages_of(response) == ["claims-triage v1 is live in production (eu, us)."]
    assert [(d.region.code, d.version.number) for d in response.context["deployments"]] == [("eu", 1), ("us", 1)]
    assert set(DeploymentEvent.objects.values_list("kind", "reason", "approval_request_id")) == {
        ("promoted", "CHG-1234", request.pk)
    }


def test_promotion_is_refused_with_a_message_while_the_request_is_pending(client, product_owner, version, request_gate):
    request = request_gate(version)
    client.force_login(product_owner)

    response = client.post(reverse("approvals:promote", args=[request.pk]), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"Request #{request.pk} is still pending: every sign-off and requirement must hold first."
    ]
    assert f"Request #{request.pk} is still pending" in response.content.decode()
    assert not Deployment.objects.exists()


def test_promotion_is_forbidden_to_people_outside_the_owning_team(client, security_reviewer, version, approved_request):
    request = approved_request(version)
    client.force_login(security_reviewer)

    assert client.get(reverse("approvals:promote", args=[request.pk])).status_code == 403
    assert client.post(reverse("approvals:promote", args=[request.pk]), {}).status_code == 403
    assert not Deployment.objects.exists()


@pytest.fixture
def two_releases(ml_engineer, feature, pins, version, go_live):
    """v1 went live, then v2: the feature serves v2 in production in eu and us."""
    go_live(version)
    second = other_prompt_version(feature, ml_engineer, pins)
    go_live(second)
    return version, second


def test_the_rollback_page_preselects_the_last_good_version_and_rolls_back(
    client, product_owner, feature, two_releases
):
    first, second = two_releases
    url = reverse("registry:rollback", args=[feature.slug, "production", "eu"])
    client.force_login(product_owner)

    form_page = client.get(url)
    assert form_page.status_code == 200
    assert form_page.context["form"]["to_version"].value() == first.pk
    assert re.search(
        rf'<input type="radio" name="to_version" value="{first.pk}"[^>]* checked', form_page.content.decode()
    )

    response = client.post(url, {"to_version": first.pk, "reason": "Complaint rate doubled."}, follow=True)

    assert response.redirect_chain == [(feature.get_absolute_url() + "#live", 302)]
    assert messages_of(response) == ["Rolled back Claims Triage in production/eu from v2 to v1."]
    live = {(d.region.code, d.version.number) for d in response.context["deployments"]}
    assert live == {("eu", 1), ("us", 2)}
    page = response.content.decode()
    assert "Deployment history (5)" in page  # v1 to eu and us, v2 to eu and us, the rollback
    assert "rolled back" in page and "Complaint rate doubled." in page


def test_a_rollback_without_a_reason_keeps_the_form_with_an_error(client, product_owner, feature, two_releases):
    first, second = two_releases
    client.force_login(product_owner)

    response = client.post(
        reverse("registry:rollback", args=[feature.slug, "production", "eu"]), {"to_version": first.pk, "reason": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    assert Deployment.objects.get(feature=feature, region__code="eu").version == second
    assert not DeploymentEvent.objects.filter(kind="rolled_back").exists()


# --- Gate policies and assignments ---------------------------------------------------------------


def test_governance_edits_a_gate_policy_and_the_change_is_audited(client, governance_admin):
    policy = GatePolicy.objects.get(gate="production")
    url = reverse("approvals:policy_edit", args=["production"])
    client.force_login(governance_admin)
    assert client.get(url).status_code == 200

    data = policy_post_data(
        policy, review_sla_hours=24, signoff_security=2, reason="Two security reviewers from now on."
    )
    shown = client.post(url, {**data, "save": "1"})  # a change of requirements is shown before it is saved
    assert shown.status_code == 200 and shown.context["confirm_first"]
    assert shown.context["preview"].changes == ["Asks for 2 Security reviewer sign-offs instead of 1."]
    assert fresh(policy).requirements.get(kind="signoff", role="security").count == 1

    response = client.post(url, {**data, "save": "1", "previewed": shown.context["preview"].digest}, follow=True)

    assert response.redirect_chain == [(reverse("approvals:policy_list"), 302)]
    assert messages_of(response) == ["Saved the Production gate. Open requests keep the rules they were made under."]
    policy = fresh(policy)
    assert policy.review_sla_hours == 24
    assert policy.requirements.get(kind="signoff", role="security").count == 2
    event = AuditEvent.objects.get(action="gate_policy.updated")
    assert event.actor == governance_admin
    assert event.payload["reason"] == "Two security reviewers from now on."
    assert event.payload["old"]["review_sla_hours"] == 48 and event.payload["new"]["review_sla_hours"] == 24


def test_a_gate_policy_without_any_signoff_is_refused_with_a_form_error(client, governance_admin):
    policy = GatePolicy.objects.get(gate="production")
    before = sorted(str(requirement) for requirement in policy.requirements.all())
    client.force_login(governance_admin)

    response = client.post(
        reverse("approvals:policy_edit", args=["production"]),
        policy_post_data(
            policy, signoff_ml=0, signoff_security=0, signoff_legal=0, signoff_product=0, reason="Let it through."
        ),
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "A gate needs at least one sign-off: nothing goes live unreviewed."
    ]
    assert sorted(str(requirement) for requirement in policy.requirements.all()) == before
    assert not AuditEvent.objects.filter(action="gate_policy.updated").exists()


def test_the_gate_policy_page_is_forbidden_to_a_product_owner(client, product_owner):
    policy = GatePolicy.objects.get(gate="production")
    url = reverse("approvals:policy_edit", args=["production"])
    client.force_login(product_owner)

    assert client.get(url).status_code == 403
    assert client.post(url, policy_post_data(policy, review_sla_hours=1, reason="x")).status_code == 403
    assert fresh(policy).review_sla_hours == 48


def assignment_post_data(**changes):
    data = {f"{a.environment}__{a.risk_tier}": a.gate for a in GateAssignment.objects.all()}
    return {**data, **changes}


def test_governance_changes_which_gate_a_tier_needs(client, governance_admin):
    client.force_login(governance_admin)

    response = client.post(
        reverse("approvals:assignment_update"),
        assignment_post_data(production__high="regulated", reason="High risk now needs the regulated gate."),
        follow=True,
    )

    assert response.redirect_chain == [(reverse("approvals:policy_list"), 302)]
    assert messages_of(response) == ["Saved 1 change to the gate assignments."]
    assert GateAssignment.objects.get(risk_tier="high", environment="production").gate == "regulated"
    event = AuditEvent.objects.get(action="gate_assignment.updated")
    assert event.payload["gate"] == ["production", "regulated"]


def test_changing_gate_assignments_needs_a_reason(client, governance_admin):
    client.force_login(governance_admin)

    response = client.post(
        reverse("approvals:assignment_update"), assignment_post_data(production__high="regulated"), follow=True
    )

    assert messages_of(response) == ["Say why the assignments change."]
    assert GateAssignment.objects.get(risk_tier="high", environment="production").gate == "production"


# --- Notices -------------------------------------------------------------------------------------


def test_the_notices_page_lists_notices_and_marks_them_all_read(client, security_reviewer, version, request_gate):
    request_gate(version)
    client.force_login(security_reviewer)
    url = reverse("registry:notification_list")

    page = client.get(url).content.decode()
    assert "Sign-off needed: claims-triage v1 to production (Production gate)" in page
    assert '<span class="badge badge-info">new</span>' in page

    response = client.post(url, follow=True)

    assert messages_of(response) == ["Marked 1 notice read."]
    assert not Notification.objects.filter(user=security_reviewer, read_at__isnull=True).exists()
    assert '<span class="badge badge-info">new</span>' not in response.content.decode()
