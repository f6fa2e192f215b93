"""The queue, a campaign's page and the API lists cost the same queries however many items they show;
pages that say nothing is waiting say so."""

import pytest

from identity.choices import ReviewItemKind
from identity.models import AccessReviewItem
from tests.factories import UserFactory
from tests.identity.reviews_helpers import org, second_governance_admin, start  # noqa: F401
from tests.query_counts import assert_constant

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(org, governance_admin, second_governance_admin):
    return start(governance_admin)


@pytest.fixture
def grow(review, team, product_owner, governance_admin):
    """n more people in the Claims team, each item put to the team's accountable owner and to governance."""
    made = []

    def add(n):
        for _ in range(n):
            person = UserFactory(username=f"member-{len(made)}", teams=[team])
            item = AccessReviewItem.objects.create(
                review=review, kind=ReviewItemKind.TEAM, user=person, team=team, sources=["manual"]
            )
            item.reviewers.set([product_owner, governance_admin])
            made.append(item)

    return add


@pytest.mark.parametrize(
    "target, persona",
    [
        ("/access-reviews/", "product_owner"),
        ("/access-reviews/", "governance_admin"),
        ("/access-reviews/{review}/", "product_owner"),
        ("/access-reviews/{review}/?q=member&decision=pending", "governance_admin"),
        ("/access-reviews/{review}/", "auditor"),
        ("/api/v1/access-review-items/?waiting=true", "product_owner"),
        ("/api/v1/access-review-items/?review={review}", "auditor"),
    ],
)
def test_the_lists_cost_the_same_queries_whatever_their_length(
    target, persona, review, grow, client, request, django_assert_max_num_queries
):
    client.force_login(request.getfixturevalue(persona))
    assert_constant(client, target.format(review=review.pk), grow, django_assert_max_num_queries, max_queries=16)


def test_the_campaign_list_costs_the_same_for_two_or_eight_campaigns(
    governance_admin, client, django_assert_max_num_queries
):
    from django.utils import timezone

    from identity.models import AccessReview

    def add(n):
        for index in range(n):
            AccessReview.objects.create(
                name=f"Old review {index}", status="closed", started_by=governance_admin, due_at=timezone.now()
            )

    client.force_login(governance_admin)
    assert_constant(
        client,
        "/api/v1/access-reviews/",
        add,
        django_assert_max_num_queries,
        max_queries=8,
    )


def test_empty_states(governance_admin, product_owner, auditor, client):
    client.force_login(product_owner)
    assert "No access review is open." in client.get("/access-reviews/").content.decode()
    client.force_login(governance_admin)
    page = client.get("/access-reviews/").content.decode()
    assert "Start one</a> to put every role grant" in page and "No campaign yet." in page
    review = start(governance_admin)
    client.force_login(product_owner)
    assert "no item of the open campaign is yours to review" in client.get("/access-reviews/").content.decode()
    assert client.get(f"/access-reviews/{review.pk}/").status_code == 404  # nothing of it is Pat's
    client.force_login(governance_admin)
    assert (
        "Nothing is waiting for you in “2026 Q4 access review”" not in client.get("/access-reviews/").content.decode()
    )
    client.force_login(auditor)  # reads every campaign, reviews nothing: no queue
    page = client.get("/access-reviews/").content.decode()
    assert "Waiting for you" not in page and "2026 Q4 access review" in page
    searched = client.get(f"/access-reviews/{review.pk}/?q=nobody-like-this").content.decode()
    assert "No item matches." in searched
