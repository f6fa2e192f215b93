"""Who may open which gate page: every approvals URL needs a signing-in, governance opens every page,
a restricted feature's requests answer 404 to outsiders (as if they did not exist), and only
governance edits gate policies and assignments."""

import pytest
from django.urls import get_resolver, reverse

from approvals.choices import RequestStatus
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, SignOff
from registry.services import version_create, version_submit
from tests.approvals.conftest import fresh, pending_signoff
from tests.factories import FeatureFactory

APPROVALS_ROUTES = get_resolver().namespace_dict["approvals"][1].url_patterns
ALL_NAMES = [route.name for route in APPROVALS_ROUTES]
# Routes a browser opens with GET; the rest (sign-off, withdraw, assignments) are POST-only buttons.
PAGE_NAMES = [route.name for route in APPROVALS_ROUTES if hasattr(route.callback.view_class, "get")]
ACTION_NAMES = [name for name in ALL_NAMES if name not in PAGE_NAMES]
POST_NAMES = [route.name for route in APPROVALS_ROUTES if hasattr(route.callback.view_class, "post")]
# Routes about one request or version, and so about one feature.
FEATURE_ROUTE_NAMES = [route.name for route in APPROVALS_ROUTES if {"pk", "slug"} & set(route.pattern.converters)]
GOVERNANCE_ONLY_NAMES = ["policy_edit", "assignment_update"]


class World:
    """A pending request on an open feature and one on a restricted feature of the same team."""

    def __init__(self, *, feature, new_version, request_gate, pins, team, eu, us, ml_engineer):
        self.feature = feature
        self.version = new_version()
        self.request = request_gate(self.version)
        self.restricted_feature = FeatureFactory(
            slug="fraud-signals",
            name="Fraud signals",
            team=team,
            restricted=True,
            risk_tier="high",
            regions=[eu, us],
            rollback_path="Flag.",
            monitors="https://grafana.example.test/d/fraud",
        )
        self.restricted_version = version_submit(
            actor=ml_engineer,
            version=version_create(actor=ml_engineer, feature=self.restricted_feature, change_summary="First.", **pins),
        )
        self.restricted_request = request_gate(self.restricted_version)

    def url(self, name, *, restricted=False):
        """The URL of an approvals route, its arguments filled with real objects of this world."""
        version = self.restricted_version if restricted else self.version
        request = self.restricted_request if restricted else self.request
        route = next(route for route in APPROVALS_ROUTES if route.name == name)
        kwargs = {}
        for parameter in route.pattern.converters:
            if parameter == "slug":
                kwargs["slug"] = version.feature.slug
            elif parameter == "number":
                kwargs["number"] = version.number
            elif parameter == "pk":
                kwargs["pk"] = pending_signoff(request, "security").pk if name.startswith("signoff_") else request.pk
            elif parameter == "gate":
                kwargs["gate"] = "production"
            else:
                raise AssertionError(f"approvals:{name} takes <{parameter}>, which this test does not know how to fill")
        return reverse(f"approvals:{name}", kwargs=kwargs)


@pytest.fixture
def world(feature, new_version, request_gate, pins, team, eu, us, ml_engineer):
    return World(
        feature=feature,
        new_version=new_version,
        request_gate=request_gate,
        pins=pins,
        team=team,
        eu=eu,
        us=us,
        ml_engineer=ml_engineer,
    )


def test_the_approvals_namespace_has_pages_and_actions_to_check():
    assert {"queue", "request_list", "request_detail", "promote", "policy_list", "policy_edit"} <= set(PAGE_NAMES)
    assert {"signoff_decide", "withdraw", "assignment_update"} <= set(ACTION_NAMES)
    assert {"request_create", "request_detail", "promote", "withdraw", "signoff_decide"} <= set(FEATURE_ROUTE_NAMES)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, world, name):
    url = world.url(name)

    for response in (client.get(url), client.post(url, {"decision": "approve", "reason": "x"})):
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={url}"
    assert pending_signoff(world.request, "security").status == "pending"


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_opens_for_a_governance_admin(client, world, governance_admin, name):
    client.force_login(governance_admin)

    response = client.get(world.url(name))

    assert response.status_code == 200, f"approvals:{name} answered {response.status_code}"


@pytest.mark.parametrize("name", [name for name in PAGE_NAMES if name in FEATURE_ROUTE_NAMES])
def test_governance_opens_a_restricted_features_request_pages(client, world, governance_admin, name):
    client.force_login(governance_admin)

    assert client.get(world.url(name, restricted=True)).status_code == 200


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_post_only_actions_refuse_get(client, world, governance_admin, name):
    client.force_login(governance_admin)

    assert client.get(world.url(name)).status_code == 405


@pytest.mark.parametrize("name", FEATURE_ROUTE_NAMES)
def test_a_restricted_features_request_pages_do_not_exist_for_an_outsider(client, world, outsider, name):
    client.force_login(outsider)
    url = world.url(name, restricted=True)

    responses = []
    if name in POST_NAMES:
        responses.append(client.post(url, {"decision": "approve", "reason": "x", "environment": "production"}))
    if name in PAGE_NAMES:
        responses.append(client.get(url))

    for response in responses:
        assert response.status_code == 404, f"approvals:{name} answered {response.status_code}"
        assert b"Fraud signals" not in response.content
    assert fresh(world.restricted_request).status == RequestStatus.PENDING
    assert not SignOff.objects.filter(request=world.restricted_request, signer__isnull=False).exists()
    assert ApprovalRequest.objects.filter(version=world.restricted_version).count() == 1


def test_an_outsider_sees_no_restricted_request_in_lists_or_queue(client, world, outsider, security_reviewer):
    client.force_login(outsider)
    listed = [request.pk for request in client.get(reverse("approvals:request_list")).context["object_list"]]
    assert listed == [world.request.pk]

    # Holding a role the restricted request needs does not show it: only a reviewer grant would.
    client.force_login(security_reviewer)
    queue = [row["signoff"].request_id for row in client.get(reverse("approvals:queue")).context["rows"]]
    assert queue == [world.request.pk]


@pytest.mark.parametrize(
    "persona",
    ["product_owner", "ml_engineer", "security_reviewer", "legal_reviewer", "support_agent", "auditor", "outsider"],
)
@pytest.mark.parametrize("name", GOVERNANCE_ONLY_NAMES)
def test_gate_policies_and_assignments_are_forbidden_to_everyone_but_governance(client, world, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    url = world.url(name)
    before = {(a.risk_tier, a.environment, a.gate) for a in GateAssignment.objects.all()}

    if name in PAGE_NAMES:
        assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "reason": "x",
            "review_sla_hours": 1,
            "approval_valid_days": 1,
            "signoff_ml": 1,
            "production__high": "sandbox",
        },
    )

    assert response.status_code == 403
    assert GatePolicy.objects.get(gate="production").review_sla_hours == 48
    assert {(a.risk_tier, a.environment, a.gate) for a in GateAssignment.objects.all()} == before


@pytest.mark.parametrize("persona", ["security_reviewer", "support_agent", "auditor", "other_product_owner"])
@pytest.mark.parametrize("name", ["request_create", "promote"])
def test_requesting_and_promoting_are_forbidden_outside_the_owning_team(client, world, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    url = world.url(name)

    assert client.get(url).status_code == 403
    assert client.post(url, {"environment": "production", "reason": "x"}).status_code == 403
    assert ApprovalRequest.objects.filter(version=world.version).count() == 1


def test_the_gate_list_is_open_to_everyone_signed_in_but_only_governance_sees_edit_links(
    client, world, product_owner, governance_admin
):
    edit = reverse("approvals:policy_edit", args=["production"])

    client.force_login(product_owner)
    page = client.get(reverse("approvals:policy_list"))
    assert page.status_code == 200 and edit not in page.content.decode()

    client.force_login(governance_admin)
    assert edit in client.get(reverse("approvals:policy_list")).content.decode()
