"""The Teams pages: everyone signed in sees the teams and who is in them; governance admins and auditors
also see why each member is there; governance admins create and rename teams and add and remove members,
each with a reason, through the audited services."""

import pytest
from django.test import Client

from registry.choices import MembershipSource
from registry.models import AuditEvent, Team
from registry.permissions import user_team_ids
from registry.services import team_member_add
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TEAMS = "/teams/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- The list --------------------------------------------------------------------------------------------


def test_everyone_signed_in_lists_teams_with_their_member_counts(outsider, team, product_owner, ml_engineer):
    UserFactory(username="former", teams=[team], is_active=False)

    response = signed_in(outsider).get(TEAMS)

    assert response.status_code == 200
    [claims] = [row for row in response.context["object_list"] if row.slug == "claims"]
    assert claims.member_count == 2  # active members only
    assert b"Create a team" not in response.content


def test_teams_are_searched_and_paginated(client, governance_admin, settings):
    settings.GATEHOUSE_PAGE_SIZE = 3
    for number in range(5):
        TeamFactory(slug=f"squad-{number}", name=f"Squad {number}", description="Ships things.")
    TeamFactory(slug="legal-ops", name="Legal operations")
    client.force_login(governance_admin)

    first = client.get(TEAMS)
    found = client.get(TEAMS, {"q": "legal"})
    beyond = client.get(TEAMS, {"page": "99"})

    assert len(first.context["object_list"]) == 3 and first.context["paginator"].count == 6
    assert [team.slug for team in found.context["object_list"]] == ["legal-ops"]
    assert beyond.status_code == 200  # the nearest page, not a 404


def test_an_empty_search_says_so(client, outsider, team):
    client.force_login(outsider)

    response = client.get(TEAMS, {"q": "nothing-like-this"})

    assert "No team matches" in response.content.decode()


def test_with_no_teams_the_list_offers_governance_to_create_one(client, governance_admin):
    client.force_login(governance_admin)

    response = client.get(TEAMS)

    assert "No teams yet." in response.content.decode() and "Create the first one" in response.content.decode()


# --- Create and rename -------------------------------------------------------------------------------------


def test_governance_creates_a_team(client, governance_admin):
    client.force_login(governance_admin)

    response = client.post(TEAMS + "new/", {"name": "Fraud", "slug": "fraud", "description": "Catches fraud."})

    assert response.status_code == 302 and response["Location"] == "/teams/fraud/"
    assert Team.objects.get(slug="fraud").group.name == "team:fraud"
    assert AuditEvent.objects.filter(action="team.created").exists()


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "Claims again", "slug": "claims"}, "already exists"),
        ({"name": "Claims", "slug": "claims-2"}, "already exists"),
        ({"name": "New", "slug": "new"}, "kept for the pages"),
        ({"name": "Bad", "slug": "Not a slug!"}, "Enter a valid"),
        ({"name": "", "slug": "empty"}, "This field is required"),
    ],
)
def test_a_team_that_cannot_be_made_is_refused_on_the_form(client, governance_admin, team, data, message):
    client.force_login(governance_admin)

    response = client.post(TEAMS + "new/", data)

    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["form"]["name"].value() == data["name"]
    assert Team.objects.count() == 1


@pytest.mark.parametrize("persona", ["auditor", "product_owner", "outsider"])
def test_only_governance_creates_and_renames_teams(request, persona, team):
    client = signed_in(request.getfixturevalue(persona))

    assert client.get(TEAMS + "new/").status_code == 403
    assert client.post(TEAMS + "new/", {"name": "X", "slug": "x"}).status_code == 403
    assert client.post(TEAMS + "claims/edit/", {"name": "Renamed"}).status_code == 403
    assert Team.objects.get(pk=team.pk).name == "Claims"


def test_governance_renames_a_team_and_the_slug_stays(client, governance_admin, team):
    client.force_login(governance_admin)

    response = client.post(
        TEAMS + "claims/edit/", {"name": "Claims handling", "description": "All claims.", "reason": "Reorg."}
    )

    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.slug, team.name, team.description) == ("claims", "Claims handling", "All claims.")
    event = AuditEvent.objects.get(action="team.updated")
    assert event.payload["old"]["name"] == "Claims" and event.payload["reason"] == "Reorg."


# --- Members -----------------------------------------------------------------------------------------------


def test_everyone_sees_the_members_but_only_governance_and_auditors_see_why(
    governance_admin, auditor, outsider, team, product_owner
):
    joiner = UserFactory(username="jo", first_name="Jo", last_name="Park")
    team_member_add(actor=governance_admin, team=team, user=joiner, reason="Confidential secondment.")

    as_outsider = signed_in(outsider).get(TEAMS + "claims/").content.decode()
    as_auditor = signed_in(auditor).get(TEAMS + "claims/").content.decode()

    assert "Jo Park" in as_outsider and product_owner.username in as_outsider
    assert "Confidential secondment." not in as_outsider and "Remove" not in as_outsider
    assert "Confidential secondment." in as_auditor and "Granted in Gatehouse" in as_auditor
    assert "Remove" not in as_auditor


def test_governance_adds_a_member_with_a_reason(client, governance_admin, team):
    joiner = UserFactory(username="jo")
    client.force_login(governance_admin)

    response = client.post(TEAMS + "claims/members/add/", {"user": "jo", "reason": "Claims rotation."})

    assert response.status_code == 302
    joiner.refresh_from_db()
    assert team.pk in user_team_ids(joiner)
    event = AuditEvent.objects.get(action="team.member_added")
    assert (event.payload["user"], event.payload["reason"]) == ("jo", "Claims rotation.")


@pytest.mark.parametrize(
    "data, status, message",
    [
        ({"user": "jo", "reason": ""}, 422, "Say why"),
        ({"user": "nobody-by-that-name", "reason": "x"}, 422, "No active person has the username"),
        ({"user": "", "reason": "x"}, 422, "This field is required"),
        ({"user": "gia-governance", "reason": "Joining."}, 403, "Separation of duties"),
    ],
)
def test_an_add_that_is_refused_says_why_and_keeps_the_input(client, governance_admin, team, data, status, message):
    UserFactory(username="jo")
    client.force_login(governance_admin)

    response = client.post(TEAMS + "claims/members/add/", data)

    assert response.status_code == status
    assert message in response.content.decode()
    assert response.context["add_form"]["reason"].value() == data["reason"]
    assert not AuditEvent.objects.filter(action="team.member_added").exists()


def test_removal_is_confirmed_with_a_reason(client, governance_admin, team, ml_engineer):
    client.force_login(governance_admin)
    url = TEAMS + f"claims/members/{ml_engineer.username}/remove/"

    confirmation = client.get(url)
    no_reason = client.post(url, {"reason": ""})
    assert team.group.user_set.filter(pk=ml_engineer.pk).exists()
    done = client.post(url, {"reason": "Moved to payments."})

    assert confirmation.status_code == 200 and "Remove" in confirmation.content.decode()
    assert no_reason.status_code == 422
    assert done.status_code == 302 and done["Location"] == "/teams/claims/"
    assert not team.group.user_set.filter(pk=ml_engineer.pk).exists()
    assert AuditEvent.objects.filter(action="team.member_removed", payload__reason="Moved to payments.").exists()


def test_removal_from_the_person_page_goes_back_there_and_never_elsewhere(client, governance_admin, ml_engineer):
    client.force_login(governance_admin)
    url = TEAMS + f"claims/members/{ml_engineer.username}/remove/"

    back = client.post(url + f"?next=/people/{ml_engineer.username}/", {"reason": "Moved."})

    assert back["Location"] == f"/people/{ml_engineer.username}/"
    team_member_add(actor=governance_admin, team=Team.objects.get(slug="claims"), user=ml_engineer, reason="Back.")
    offsite = client.post(url, {"reason": "Moved.", "next": "https://evil.example/"})
    assert offsite["Location"] == "/teams/claims/"


def test_the_removal_page_warns_when_the_identity_provider_holds_the_membership(client, governance_admin, team):
    person = UserFactory(username="ida")
    team_member_add(actor=None, team=team, user=person, source=MembershipSource.IDP)
    client.force_login(governance_admin)

    response = client.get(TEAMS + "claims/members/ida/remove/")

    assert "The identity provider puts them in this team" in response.content.decode()


@pytest.mark.parametrize("path", ["nobody/remove/", "%00/remove/", "olly-outsider/remove/"])
def test_removing_someone_not_in_the_team_is_a_404(client, governance_admin, team, outsider, path):
    client.force_login(governance_admin)

    assert client.get(TEAMS + "claims/members/" + path).status_code in (400, 404)


def test_an_unknown_team_is_a_404(client, outsider):
    client.force_login(outsider)

    assert client.get(TEAMS + "no-such-team/").status_code == 404


def test_suggestions_offer_active_people_not_yet_in_the_team(client, governance_admin, team, ml_engineer, outsider):
    UserFactory(username="olly-gone", is_active=False)
    client.force_login(governance_admin)

    response = client.get(TEAMS + "claims/members/suggestions/", {"user": "l"})

    offered = [value for value, _label in response.context["suggestions"]]
    assert outsider.username in offered
    assert ml_engineer.username not in offered and "olly-gone" not in offered
    assert signed_in(outsider).get(TEAMS + "claims/members/suggestions/", {"user": "l"}).status_code == 403


def test_the_team_page_costs_the_same_queries_for_many_members(
    client, governance_admin, team, django_assert_max_num_queries
):
    from tests.query_counts import assert_constant

    count = {"n": 0}

    def grow(n):
        for _ in range(n):
            count["n"] += 1
            person = UserFactory(username=f"member-{count['n']:03}")
            team_member_add(actor=governance_admin, team=team, user=person, reason="Joins.")
            team_member_add(actor=None, team=team, user=person, source=MembershipSource.IDP)

    client.force_login(governance_admin)
    assert_constant(client, TEAMS + "claims/", grow, django_assert_max_num_queries, max_queries=20)
