"""Identity pages that do not grow with the data (issue 22): the Account page costs the same queries for 2
signed-in browsers or 12 (and still drops the records of ended ones), and the campaign start page's plan
counts what starting a campaign would put to reviewers without building every item."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from identity.choices import ReviewItemKind
from identity.reviews.selectors import plan_summary, planned_items
from registry.models import UserSession
from tests.factories import PASSWORD, FeatureFactory, UserFactory
from tests.identity.reviews_helpers import org, second_governance_admin  # noqa: F401
from tests.query_counts import count_queries

pytestmark = pytest.mark.django_db


def _sign_in(user, n):
    for _ in range(n):
        assert Client().login(username=user.username, password=PASSWORD)


def test_the_account_page_costs_the_same_queries_for_2_or_12_sessions(outsider):
    here = Client()
    assert here.login(username=outsider.username, password=PASSWORD)
    _sign_in(outsider, 1)
    here.get("/account/")  # the first visit after signing in also records the session
    few, response = count_queries(here, "/account/")
    assert len(response.context["sessions"]) == 2

    _sign_in(outsider, 10)
    here.get("/account/")
    many, response = count_queries(here, "/account/")

    assert len(response.context["sessions"]) == 12
    assert many == few


def test_the_records_of_ended_sessions_are_dropped(outsider):
    here = Client()
    assert here.login(username=outsider.username, password=PASSWORD)
    _sign_in(outsider, 3)
    ended = list(UserSession.objects.filter(user=outsider).exclude(session_key=here.session.session_key))[:2]
    Session.objects.filter(session_key__in=[record.session_key for record in ended]).delete()

    sessions = here.get("/account/").context["sessions"]

    assert len(sessions) == 2
    assert not UserSession.objects.filter(pk__in=[record.pk for record in ended]).exists()


def _counted(planned):
    return {
        "items": len(planned),
        "people": len({item.user_id for item, _ in planned}),
        "role_grants": sum(1 for item, _ in planned if item.kind == ReviewItemKind.ROLE),
        "team_memberships": sum(1 for item, _ in planned if item.kind == ReviewItemKind.TEAM),
        "reviewers": len({reviewer for _, reviewers in planned for reviewer in reviewers}),
        "without_reviewer": sum(1 for _, reviewers in planned if not reviewers),
    }


def test_the_plan_counts_what_starting_would_put_to_reviewers(org, team, other_team, governance_admin):
    assert plan_summary() == _counted(planned_items())

    # A team whose only owner is its only member falls back to governance; a lone governance admin's own
    # role grant is left with nobody.
    lone = UserFactory(roles=["product"], teams=[other_team])
    FeatureFactory(team=other_team, accountable_owner=lone, incident_owner=lone)
    UserFactory(teams=[team], roles=["security", "ml"])
    UserFactory(teams=[team], is_active=False)

    assert plan_summary() == _counted(planned_items())


def test_a_lone_governance_admin_is_left_without_a_reviewer_for_their_own_role(governance_admin, team):
    UserFactory(teams=[team])

    summary = plan_summary()

    assert summary == _counted(planned_items())
    assert summary["without_reviewer"] == 1
