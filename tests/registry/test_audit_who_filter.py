"""The audit trail's "Who" filter: a box for the actor's username (matched exactly, along the index on
``actor_name``) with a bounded ``<datalist>`` of the most recent actors, not a ``<select>`` of every person
the trail holds (1,532 at a million events: most of the page's time). The ``actor`` parameter of bookmarks
and of the API keeps working; an unknown name is the empty state; the page's queries do not grow with the
number of actors; only events the reader may see suggest a name."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import AuditEvent
from registry.services.audit import audit_record_many
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = reverse("registry:audit_list")


def record(actor, n=1, action="note.added"):
    return audit_record_many([dict(actor=actor, action=action, object_type="note", object_id=i) for i in range(n)])


@pytest.fixture
def trail(product_owner, ml_engineer):
    record(product_owner, 2)
    record(ml_engineer, 3)
    record(None, 1, action="approval.expired")  # the system: no person
    return AuditEvent.objects.all()


def suggested(page: str) -> list[str]:
    datalist = re.search(r'<datalist id="id_actor-suggestions">(.*?)</datalist>', page, re.S)
    assert datalist, "the Who box has no datalist"
    return re.findall(r'<option value="([^"]*)"', datalist.group(1))


def listed(client, query) -> list[str]:
    response = client.get(URL, query)
    assert response.status_code == 200
    return [event.actor_name for event in response.context["object_list"]]


def test_who_is_a_text_box_with_the_recent_actors_suggested(client, auditor, trail, product_owner):
    product_owner.first_name, product_owner.last_name = "Pat", "Product"
    product_owner.save()
    client.force_login(auditor)

    page = client.get(URL).content.decode()

    assert '<select name="actor"' not in page
    assert re.search(r'<input type="text" name="actor"[^>]* list="id_actor-suggestions"', page)
    assert suggested(page) == ["system", "mel-ml", "pat-product"]  # most recent first
    assert '<option value="pat-product">Pat Product</option>' in page  # the name beside the username


def test_a_name_filters_and_a_bookmark_of_the_old_select_still_works(client, auditor, trail):
    client.force_login(auditor)

    assert listed(client, {"actor": "pat-product"}) == ["pat-product"] * 2
    assert listed(client, {"actor": " mel-ml "}) == ["mel-ml"] * 3  # spaces around it do not matter
    assert listed(client, {"actor": "system"}) == ["system"]
    assert listed(client, {"actor": "mel-ml", "action": "note.added", "ordering": "sequence"}) == ["mel-ml"] * 3
    assert listed(client, {"actor": ""}) == listed(client, {})  # empty: anyone


def test_an_unknown_name_shows_the_empty_state(client, auditor, trail):
    client.force_login(auditor)

    response = client.get(URL, {"actor": "nobody-here"})

    page = response.content.decode()
    assert response.status_code == 200 and list(response.context["object_list"]) == []
    assert "No event matches these filters." in page
    assert 'value="nobody-here"' in page  # what was typed stays in the box
    assert "inline-error" not in page  # not an error: nobody by that name acted

    partial = client.get(URL, {"actor": "nobody-here"}, HTTP_HX_REQUEST="true").content.decode()
    assert "No event matches these filters." in partial and "<datalist" not in partial


def test_the_api_and_the_csv_filter_by_the_same_parameter(client, auditor, trail):
    client.force_login(auditor)

    body = client.get("/api/v1/audit-events/", {"actor": "pat-product"}).json()
    assert [row["actor_name"] for row in body["results"]] == ["pat-product"] * 2
    assert client.get("/api/v1/audit-events/", {"actor": "nobody-here"}).json()["results"] == []

    csv = b"".join(client.get(reverse("registry:audit_download"), {"actor": "mel-ml"}).streaming_content).decode()
    assert csv.count("mel-ml") == 3


def test_at_most_the_most_recent_actors_are_suggested(client, auditor, monkeypatch):
    monkeypatch.setattr("registry.filters.RECENT_ACTORS", 3)
    people = [UserFactory(username=f"person-{n:02d}") for n in range(6)]
    for person in people:
        record(person)
    record(people[0])  # acted again: now the most recent
    client.force_login(auditor)

    assert suggested(client.get(URL).content.decode()) == ["person-00", "person-05", "person-04"]


def test_only_events_the_reader_may_see_suggest_a_name(client, auditor, trail, monkeypatch):
    """The suggestions come from the page's own reader of the trail: were it to hide events from someone,
    a person seen only in those would not be suggested to them."""
    from registry import selectors

    hidden_only = UserFactory(username="hana-hidden")
    record(hidden_only, action="secret.touched")
    visible_to = selectors.audit_events_visible_to
    monkeypatch.setattr(
        selectors, "audit_events_visible_to", lambda user: visible_to(user).exclude(action="secret.touched")
    )
    client.force_login(auditor)

    page = client.get(URL).content.decode()

    assert "hana-hidden" not in page
    assert suggested(page) == ["system", "mel-ml", "pat-product"]


def count_queries(client, query=None) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, query or {})
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_page_costs_the_same_queries_for_3_or_80_actors(client, auditor, trail):
    client.force_login(auditor)
    client.get(URL)  # warm per-process caches (content types)
    few = count_queries(client)
    few_filtered = count_queries(client, {"actor": "pat-product"})

    audit_record_many(
        [
            dict(actor=UserFactory(username=f"actor-{n:03d}"), action="note.added", object_type="note", object_id=n)
            for n in range(80)
        ]
    )
    many = count_queries(client)
    many_filtered = count_queries(client, {"actor": "pat-product"})
    page = client.get(URL).content.decode()

    assert many == few and many_filtered == few_filtered
    assert len(suggested(page)) == 50  # bounded, whatever the number of people


def test_the_csv_and_the_api_do_not_read_the_suggestions(client, auditor, trail, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the suggestions are read only to draw the page's Who box")

    monkeypatch.setattr("registry.filters.recent_actors", refuse)
    client.force_login(auditor)

    assert client.get(reverse("registry:audit_download"), {"actor": "mel-ml"}).status_code == 200
    assert client.get("/api/v1/audit-events/", {"actor": "mel-ml"}).status_code == 200
    assert client.get(URL, {"actor": "mel-ml"}, HTTP_HX_REQUEST="true").status_code == 200  # results only
