"""Incidents name people as every other page does: the full name, the username on hover; and the rollback
offered from an incident shows each version to return to whole, never cut mid-word."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LONG_SUMMARY = (
    "Route vulnerable-customer claims to the specialist queue first and explain the routing decision to handlers."
)


@pytest.fixture
def incident(history, open_incident):
    return open_incident()


def test_the_incident_list_names_the_owner_by_full_name_with_the_username_on_hover(client, incident, support_agent):
    owner = incident.owner
    assert owner.get_full_name() and owner.get_full_name() != owner.username
    client.force_login(support_agent)

    page = client.get(reverse("incidents:incident_list")).content.decode()

    row = re.search(rf"{incident.reference}.*?</tr>", page, re.S).group(0)
    assert f'<span class="person" title="{owner.username}">{owner.get_full_name()}</span>' in row
    assert f"<td>{owner.username}</td>" not in row


def test_the_incident_page_names_its_owner_and_reporter_the_same_way(client, incident, support_agent):
    client.force_login(support_agent)

    page = client.get(incident.get_absolute_url()).content.decode()

    assert f'title="{incident.owner.username}">{incident.owner.get_full_name()}</span>' in page
    reporter = incident.reporter
    name = reporter.get_full_name() or reporter.username
    assert '(reported by <span class="person"' in page and f">{name}</span>)" in page


def test_the_rollback_from_an_incident_shows_each_version_whole(
    client, releases, open_incident, ml_engineer, new_version, go_live
):
    v1, v2 = releases(2)
    type(v1).objects.filter(pk=v1.pk).update(change_summary=LONG_SUMMARY)
    incident = open_incident()
    client.force_login(ml_engineer)

    page = client.get(incident.get_absolute_url()).content.decode()

    section = page[page.index('id="rollback"') :]
    assert 'type="radio" name="to_version"' in section  # a choice that wraps, not a menu that cuts
    assert f"v1 ({LONG_SUMMARY})" in " ".join(section.split())
