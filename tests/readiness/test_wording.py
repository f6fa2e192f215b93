"""How readiness reads: the inventory's Missing column lists what is missing and nothing else (no stray
separator), and sentences name regions as places ("in Canada", "in the EU")."""

import re

import pytest
from django.urls import reverse

from readiness.sentence import place, where
from registry.models import AIFeature
from tests.factories import FeatureFactory, RegionFactory

pytestmark = pytest.mark.django_db


def missing_cells(body: str) -> dict[str, str]:
    """Feature name -> the text of its Missing cell in the inventory."""
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = re.search(r"<td><a [^>]*>([^<]+)</a>", row)
        cell = re.search(r'<td class="small missing-items">(.*?)</td>', row, re.S)
        if name and cell:
            cells[name.group(1).strip()] = " ".join(re.sub(r"<[^>]+>", "", cell.group(1)).split())
    return cells


def test_the_missing_column_has_no_trailing_separator(client, governance_admin, team):
    eu = RegionFactory(code="eu")
    # Missing the monitor and SLOs, not live (so the live items are missing too), with a rollback path: the
    # last item in the checklist order is missing and some in the middle are in place.
    FeatureFactory(
        slug="mail-sorter", name="Mail sorter", team=team, regions=[eu], monitors="", slos="", rollback_path="Flag."
    )
    client.force_login(governance_admin)

    body = client.get(reverse("readiness:dashboard")).content.decode()

    cell = missing_cells(body)["Mail sorter"]
    assert cell.startswith("Monitor · SLOs · ") and cell.endswith("Approved production version")
    assert not cell.endswith("·") and "· ·" not in cell


def test_a_live_feature_missing_one_early_item_shows_just_that_item(client, governance_admin, claims_live):
    # Live and otherwise ready: the last item of the checklist (an approved production version) is in place, so a
    # separator after each missing item "unless it is the last item of the checklist" would dangle.
    AIFeature.objects.filter(pk=claims_live["feature"].pk).update(monitors="")
    client.force_login(governance_admin)

    body = client.get(reverse("readiness:dashboard")).content.decode()

    assert missing_cells(body)["Claims triage"] == "Monitor"


def test_a_ready_feature_shows_a_dash_for_nothing_missing(client, governance_admin, claims_live):
    client.force_login(governance_admin)

    body = client.get(reverse("readiness:dashboard")).content.decode()

    assert missing_cells(body)["Claims triage"] == "—"


@pytest.mark.parametrize(
    ("codes", "reads"),
    [
        (["ca"], "Canada"),
        (["eu"], "the EU"),
        (["us", "ca"], "the US and Canada"),
        (["eu", "uk", "jp"], "the EU, the UK and Japan"),
        (["apac"], "Asia-Pacific"),
    ],
)
def test_regions_read_as_places_in_a_sentence(codes, reads):
    assert where(codes) == reads
    assert "the CA" not in where(codes) and "the JP" not in where(codes)


def test_a_region_the_sentence_does_not_know_is_named_by_its_code():
    assert place("latam") == "LATAM"


def test_the_rollback_item_names_regions_as_places(claims_live):
    from readiness.checklist import readiness_many

    (readiness,) = readiness_many(AIFeature.objects.filter(pk=claims_live["feature"].pk))

    assert readiness.item("rollback_path").detail.startswith("Rolls back to v1 in the EU, v1 in the US.")
