"""An organisation to review: the Claims team (its product owner is the accountable owner of its feature,
its ML engineer a member through the identity provider and by hand), another team owning no feature, two
governance admins, a security reviewer, an auditor and someone deactivated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from identity.models import AccessReview, AccessReviewItem
from identity.reviews.services import access_review_start
from registry.choices import MembershipSource
from registry.models import Membership
from registry.services import api_token_create
from tests.factories import FeatureFactory, UserFactory


@pytest.fixture
def second_governance_admin(db):
    return UserFactory(username="gus-governance", roles=["governance"])


@pytest.fixture
def org(
    team,
    other_team,
    product_owner,
    ml_engineer,
    other_product_owner,
    security_reviewer,
    governance_admin,
    second_governance_admin,
    auditor,
    eu,
):
    feature = FeatureFactory(team=team, accountable_owner=product_owner, incident_owner=ml_engineer, regions=[eu])
    Membership.objects.create(user=ml_engineer, group=team.group, source=MembershipSource.IDP, reason="okta: claims")
    Membership.objects.create(user=ml_engineer, group=team.group, source=MembershipSource.MANUAL, reason="joined")
    gone = UserFactory(username="former-legal", roles=["legal"], teams=[team])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    return {"feature": feature, "gone": gone}


def start(actor, *, name="2026 Q4 access review", days=14) -> AccessReview:
    return access_review_start(actor=actor, name=name, due_at=timezone.now() + timedelta(days=days))


def item_of(review, user, *, role=None, team=None) -> AccessReviewItem:
    items = review.items.filter(user=user)
    return items.get(role=role) if role else items.get(team=team)


def token_client(user) -> APIClient:
    _, raw = api_token_create(actor=user, user=user, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


HTMX = {"HTTP_HX_REQUEST": "true"}
