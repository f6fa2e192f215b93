"""One time-zone rule: each person sets their zone on their account; pages show times in it, with its name,
and read the times typed into forms in it; the API speaks UTC whoever calls."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from registry.models import AuditEvent, Evaluation, PersonSettings
from registry.services import time_zone_of, time_zone_set, version_create
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory
from tests.registry.test_version_pages import evaluation_form_data

pytestmark = pytest.mark.django_db


def set_zone(client, zone):
    return client.post(reverse("identity:account_time_zone"), {"time_zone": zone})


def test_a_person_sets_their_zone_and_pages_name_it(client, product_owner):
    client.force_login(product_owner)
    assert b"Signed in</dt><dd>" in client.get("/account/").content
    assert time_zone_of(product_owner) == "UTC"

    response = set_zone(client, "Asia/Tokyo")

    assert response.status_code == 302
    assert time_zone_of(product_owner) == "Asia/Tokyo"
    event = AuditEvent.objects.get(action="person.time_zone_set")
    assert event.actor == product_owner
    assert event.payload["changes"] == {"time_zone": ["UTC", "Asia/Tokyo"]}
    page = client.get("/account/").content.decode()
    assert "Times now show in Asia/Tokyo." in page
    assert '<option value="Asia/Tokyo" selected>Tokyo</option>' in page
    assert " JST (" in page  # the last sign-in, in the zone, with its name
    # Saving the same zone again changes nothing and records nothing.
    set_zone(client, "Asia/Tokyo")
    assert AuditEvent.objects.filter(action="person.time_zone_set").count() == 1


def test_column_headers_name_the_zone(client, governance_admin):
    client.force_login(governance_admin)
    set_zone(client, "Europe/Helsinki")
    page = client.get("/audit/").content.decode()
    assert "When (Europe/Helsinki)" in page
    assert "(UTC)" not in page


def test_a_zone_the_server_does_not_know_is_refused_on_the_page(client, product_owner):
    client.force_login(product_owner)

    response = set_zone(client, "Mars/Olympus_Mons")

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not PersonSettings.objects.exists()
    assert time_zone_of(product_owner) == "UTC"


def test_only_the_person_sets_their_zone(product_owner, governance_admin):
    with pytest.raises(PermissionDenied):
        time_zone_set(actor=governance_admin, user=product_owner, time_zone="Europe/Paris")
    with pytest.raises(ValidationError):
        time_zone_set(actor=product_owner, user=product_owner, time_zone="Factory")
    assert time_zone_of(product_owner) == "UTC"


def test_times_typed_into_a_form_are_read_in_the_persons_zone(client, team, ml_engineer):
    feature = FeatureFactory(team=team)
    version = version_create(
        actor=ml_engineer,
        feature=feature,
        model=CatalogModelFactory(),
        prompt=PromptVersionFactory(),
        policy_pack=PolicyPackFactory(),
        change_summary="A version.",
    )
    client.force_login(ml_engineer)
    set_zone(client, "America/New_York")
    form = client.get(reverse("registry:evaluation_create", args=[feature.slug, version.number])).content.decode()
    assert "In your time zone, America/New_York" in form

    ran = (timezone.now() - timedelta(days=2)).astimezone(UTC).replace(second=0, microsecond=0)
    typed = timezone.localtime(ran, timezone=ZoneInfo("America/New_York"))
    response = client.post(
        reverse("registry:evaluation_create", args=[feature.slug, version.number]),
        evaluation_form_data(run_at=typed.strftime("%Y-%m-%dT%H:%M")),
    )

    assert response.status_code == 302
    assert Evaluation.objects.get(version=version).run_at == ran


def test_the_api_speaks_utc_whatever_the_persons_zone(client, product_owner, team):
    FeatureFactory(team=team, name="Claims triage")
    client.force_login(product_owner)
    set_zone(client, "Asia/Kolkata")

    body = client.get("/api/v1/features/").json()

    created = body["results"][0]["created_at"]
    assert created.endswith("Z") or created.endswith("+00:00"), created
    assert datetime.fromisoformat(created.replace("Z", "+00:00")).utcoffset() == timedelta(0)
