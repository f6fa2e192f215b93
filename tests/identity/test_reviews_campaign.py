"""Starting an access review: what it snapshots, who reviews what, and who may start one."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.exceptions import Conflict
from identity.choices import ReviewDecision, ReviewItemKind
from identity.models import AccessReview
from identity.reviews.services import access_review_start
from registry.models import AuditEvent, Notification
from tests.factories import UserFactory
from tests.identity.reviews_helpers import item_of, org, second_governance_admin, start  # noqa: F401

pytestmark = pytest.mark.django_db


def reviewers_of(item) -> set[str]:
    return {user.username for user in item.reviewers.all()}


def test_a_campaign_puts_every_grant_of_active_people_to_its_reviewers_and_nobody_reviews_themselves(
    org,
    team,
    other_team,
    product_owner,
    ml_engineer,
    other_product_owner,
    security_reviewer,
    governance_admin,
    second_governance_admin,
    auditor,
):
    review = start(governance_admin)

    snapshot = {
        (item.user.username, item.kind, item.role or item.team.slug): (item.sources, reviewers_of(item))
        for item in review.items.select_related("user", "team").prefetch_related("reviewers")
    }
    governance = {"gia-governance", "gus-governance"}
    assert snapshot == {
        # a team membership goes to the accountable owners of the team's features...
        ("mel-ml", "team", "claims"): (["idp", "manual"], {"pat-product"}),
        # ...but never to the person themselves: the owner's own membership falls back to governance
        ("pat-product", "team", "claims"): (["manual"], governance),
        # a team owning no feature is reviewed by governance
        ("otto-product", "team", "payments"): (["manual"], governance),
        # role grants go to governance admins, never one's own
        ("pat-product", "role", "product"): (["manual"], governance),
        ("mel-ml", "role", "ml"): (["manual"], governance),
        ("otto-product", "role", "product"): (["manual"], governance),
        ("sam-security", "role", "security"): (["manual"], governance),
        ("aude-auditor", "role", "auditor"): (["manual"], governance),
        ("gia-governance", "role", "governance"): (["manual"], {"gus-governance"}),
        ("gus-governance", "role", "governance"): (["manual"], {"gia-governance"}),
    }  # the deactivated person's role and team are left out
    assert all(item.decision == ReviewDecision.PENDING for item in review.items.all())

    event = AuditEvent.objects.get(action="access_review.started")
    assert event.actor == governance_admin
    assert event.payload["items"] == 10 and event.payload["role_grants"] == 7 and event.payload["team_memberships"] == 3
    assert event.payload["without_reviewer"] == 0
    told = Notification.objects.filter(key=f"access-review-started:{review.pk}")
    assert {notice.user.username: notice.subject.split(":")[1].strip() for notice in told} == {
        "pat-product": f"1 item to review by {timezone.localtime(review.due_at):%d %b %Y}",
        "gia-governance": f"8 items to review by {timezone.localtime(review.due_at):%d %b %Y}",
        "gus-governance": f"8 items to review by {timezone.localtime(review.due_at):%d %b %Y}",
    }


def test_a_sole_governance_admin_has_no_independent_reviewer_for_their_own_role(governance_admin, security_reviewer):
    review = start(governance_admin)

    own = item_of(review, governance_admin, role="governance")
    assert not own.reviewers.exists()
    assert AuditEvent.objects.get(action="access_review.started").payload["without_reviewer"] == 1
    assert list(item_of(review, security_reviewer, role="security").reviewers.all()) == [governance_admin]


def test_only_one_campaign_is_open_at_a_time(governance_admin, second_governance_admin, client):
    start(governance_admin, name="2026 Q3 access review")

    with pytest.raises(Conflict, match="“2026 Q3 access review” is still open .*: close it before starting another"):
        start(second_governance_admin)

    client.force_login(second_governance_admin)
    page = client.get("/access-reviews/new/")
    assert "“2026 Q3 access review” is still open" in page.content.decode()
    due = (timezone.localdate() + timedelta(days=10)).isoformat()
    refused = client.post("/access-reviews/new/", {"name": "Another", "due_date": due})
    assert refused.status_code == 200
    assert "is still open" in refused.content.decode()
    assert AuditEvent.objects.filter(action="access_review.started").count() == 1


def test_only_governance_admins_start_a_campaign(governance_admin, product_owner, auditor, client):
    for person in (product_owner, auditor):
        with pytest.raises(PermissionDenied):
            start(person)
        client.force_login(person)
        assert client.get("/access-reviews/new/").status_code == 403
        assert client.post("/access-reviews/new/", {"name": "Mine", "due_date": "2099-01-01"}).status_code == 403


def test_the_start_page_shows_what_will_be_reviewed_and_starts_the_campaign(
    org, governance_admin, second_governance_admin, client
):
    client.force_login(governance_admin)
    page = client.get("/access-reviews/new/").content.decode()
    assert "10 items for 7 people (7 role grants, 3 team memberships), to 3 reviewers" in page

    due = timezone.localdate() + timedelta(days=14)
    response = client.post("/access-reviews/new/", {"name": "  2026 Q4 access review ", "due_date": due.isoformat()})

    review = AccessReview.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/access-reviews/{review.pk}/"
    assert review.name == "2026 Q4 access review"
    assert timezone.localtime(review.due_at).date() == due and timezone.localtime(review.due_at).hour == 23
    assert "10 items put to their reviewers" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "due_date": "2099-01-01"}, "name", "This field is required."),
        ({"name": "Q4", "due_date": "yesterday"}, "due_date", "Enter a valid date."),
        ({"name": "Q4", "due_date": "2001-01-01"}, "due_date", "The due date must be in the future."),
        ({"name": "Q4", "due_date": "2999-01-01"}, "due_date", "A campaign runs a year at most."),
        ({"name": "Q" * 121, "due_date": "2099-01-01"}, "name", "at most 120 characters"),
    ],
)
def test_bad_input_is_shown_on_the_form(governance_admin, client, data, field, message):
    client.force_login(governance_admin)
    if data["due_date"] == "2099-01-01":
        data = {**data, "due_date": (timezone.localdate() + timedelta(days=30)).isoformat()}
    response = client.post("/access-reviews/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not AuditEvent.objects.filter(action="access_review.started").exists()


def test_the_service_refuses_what_the_form_would(governance_admin):
    with pytest.raises(ValidationError) as refused:
        access_review_start(actor=governance_admin, name=" ", due_at=None)
    assert set(refused.value.message_dict) == {"name", "due_at"}


def test_a_deactivated_person_is_not_reviewed_and_a_reactivated_one_is_in_the_next_campaign(governance_admin):
    former = UserFactory(username="fay", roles=["support"], is_active=False)
    review = start(governance_admin)
    assert not review.items.filter(user=former).exists()
    assert review.items.filter(kind=ReviewItemKind.ROLE).count() == 1
