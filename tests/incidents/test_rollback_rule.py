"""Who may roll back is one rule (``registry.permissions.can_roll_back``): the owning team and governance
admins, and support from an incident. The rollback service, the feature page's button, the rollback
page and the incident page's rollback form all follow it."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from incidents.services import incident_rollback
from registry.permissions import can_roll_back
from registry.services import deployment_rollback

MAY_ROLL_BACK = {  # persona: (from the feature page or the API, from an incident)
    "ml_engineer": (True, True),  # the owning team
    "product_owner": (True, True),
    "governance_admin": (True, True),
    "support_agent": (False, True),
    "other_product_owner": (False, False),  # another team
    "auditor": (False, False),
    "outsider": (False, False),
}


@pytest.fixture
def incident(history, open_incident):
    """A SEV2 in production/eu while v2 is live (v1 served before it)."""
    return open_incident()


@pytest.mark.parametrize("persona", list(MAY_ROLL_BACK))
def test_the_rule_gives_the_matrix(request, feature, persona):
    user = request.getfixturevalue(persona)

    assert (can_roll_back(user, feature), can_roll_back(user, feature, from_incident=True)) == MAY_ROLL_BACK[persona]


@pytest.mark.parametrize("persona", list(MAY_ROLL_BACK))
def test_the_pages_show_rollback_to_whom_the_rule_allows(client, request, feature, incident, persona):
    from_feature, from_incident = MAY_ROLL_BACK[persona]
    client.force_login(request.getfixturevalue(persona))
    rollback_page = reverse("registry:rollback", args=[feature.slug, "production", "eu"])

    feature_page = client.get(feature.get_absolute_url()).content.decode()
    incident_page = client.get(incident.get_absolute_url()).content.decode()

    assert (f'href="{rollback_page}"' in feature_page) is from_feature
    assert client.get(rollback_page).status_code == (200 if from_feature else 403)
    assert (f'action="{reverse("incidents:rollback", args=[incident.pk])}"' in incident_page) is from_incident


@pytest.mark.parametrize("persona", list(MAY_ROLL_BACK))
def test_the_rollback_service_follows_the_rule(request, feature, eu, incident, persona):
    user = request.getfixturevalue(persona)
    from_feature, from_incident = MAY_ROLL_BACK[persona]

    def roll_back_from_the_feature():
        return deployment_rollback(actor=user, feature=feature, environment="production", region=eu, reason="Bad.")

    def roll_back_from_the_incident():
        return incident_rollback(actor=user, incident=incident, reason="Bad.")

    roll_back = roll_back_from_the_feature if from_feature else roll_back_from_the_incident
    if from_feature or from_incident:
        assert roll_back().kind == "rolled_back"
    else:
        for attempt in (roll_back_from_the_feature, roll_back_from_the_incident):
            with pytest.raises(PermissionDenied):
                attempt()
    if from_incident and not from_feature:
        with pytest.raises(PermissionDenied):
            roll_back_from_the_feature()
