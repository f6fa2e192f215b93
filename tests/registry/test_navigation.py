"""The main navigation lights exactly the entry a page belongs to (registry.navigation), never two."""

import re

import pytest

from registry.navigation import group_of, section_of


@pytest.mark.parametrize(
    ("namespace", "name", "section", "group"),
    [
        ("registry", "home", "dashboard", ""),
        ("registry", "feature_detail", "features", "release"),
        ("registry", "version_diff", "features", "release"),
        ("registry", "model_list", "catalog", "release"),
        ("registry", "policy_detail", "catalog", "release"),  # a policy pack, in the catalog
        ("approvals", "policy_list", "gates", "release"),  # the gates, not the catalog's policy packs
        ("approvals", "request_detail", "requests", "release"),
        ("approvals", "queue", "queue", ""),
        ("readiness", "feature", "readiness", "govern"),  # not Features, though its name says "feature"
        ("identity", "review_detail", "reviews", "govern"),  # not People
        ("identity", "person_detail", "people", "govern"),
        ("identity", "team_detail", "teams", "govern"),
        ("identity", "account", "account", "you"),
        ("routing", "decision_lookup", "lookup", "operate"),
        ("routing", "vendor_routes", "catalog", "release"),
        ("registry", "audit_verify", "audit", "govern"),
        ("two_factor", "security", "security", "you"),
    ],
)
def test_each_page_belongs_to_one_section(namespace, name, section, group):
    assert section_of(namespace, name) == section
    assert group_of(section) == group


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "lit", "menu"),
    [
        ("/readiness/", "Readiness", "Govern"),
        ("/access-reviews/", "Access reviews", "Govern"),
        ("/people/", "People", "Govern"),
        ("/features/", "Features", "Release"),
        ("/approvals/gates/", "Gates", "Release"),
        ("/incidents/", "Incidents", "Operate"),
        ("/account/", "Account", None),
    ],
)
def test_a_page_lights_one_entry_and_its_menu(client, governance_admin, path, lit, menu):
    client.force_login(governance_admin)
    page = client.get(path).content.decode()
    nav = page[page.index('<nav class="nav"') : page.index("</nav>")]
    current = re.findall(r'aria-current="page">([^<]+)<', nav)
    assert current == [lit]
    menus = re.findall(r'<summary class="nav-link( active)?"[^>]*>\s*(\w+)', nav)
    assert [name for _, name in menus] == ["Release", "Operate", "Govern"]
    assert [name for active, name in menus if active] == ([menu] if menu else [])
