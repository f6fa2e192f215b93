"""Who may open which page: every registry page needs a signing-in, governance opens them all,
restricted features answer 404 to outsiders (as if they did not exist), edit pages answer 403 to
people who can see a feature but do not own it, and the audit trail is for governance and auditors."""

from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from registry.models import AuditVerificationRun, Deployment, FeatureChangeRequest, FeatureVersion
from registry.services import api_token_create, reviewer_grant_create
from tests.factories import DatasetFactory, FeatureFactory, UserFactory, VersionFactory

REGISTRY_ROUTES = get_resolver().namespace_dict["registry"][1].url_patterns
ALL_NAMES = [route.name for route in REGISTRY_ROUTES]
# Routes a browser opens with GET; the rest (e.g. token_revoke) are POST-only actions behind a button.
PAGE_NAMES = [route.name for route in REGISTRY_ROUTES if hasattr(route.callback.view_class, "get")]
ACTION_NAMES = [name for name in ALL_NAMES if name not in PAGE_NAMES]
# Pages about one feature: the URL carries the feature's slug.
FEATURE_PAGE_NAMES = [
    route.name
    for route in REGISTRY_ROUTES
    if "slug" in route.pattern.converters and not route.name.startswith("vendor_") and route.name in PAGE_NAMES
]
# Actions on one feature (POST-only): governance's decision on a change waiting for it.
FEATURE_ACTION_NAMES = [
    route.name
    for route in REGISTRY_ROUTES
    if "slug" in route.pattern.converters and not route.name.startswith("vendor_") and route.name in ACTION_NAMES
]
FEATURE_EDIT_PAGE_NAMES = [
    "feature_edit",
    "version_create",
    "version_edit",
    "version_submit",
    "evaluation_create",
    "rollback",
]
CATALOG_CREATE_PAGE_NAMES = ["vendor_create", "model_create", "prompt_create", "policy_create", "dataset_create"]


class World:
    """One of everything a registry URL can point at."""

    def __init__(self, *, team, governance_admin):
        self.feature = FeatureFactory(slug="claims-triage", name="Claims triage", team=team)
        self.version = VersionFactory(feature=self.feature, number=1)
        self.restricted_feature = FeatureFactory(slug="fraud-signals", name="Fraud signals", team=team, restricted=True)
        self.restricted_version = VersionFactory(feature=self.restricted_feature, number=1)
        self.dataset = DatasetFactory(owner=team)
        for feature, version in ((self.feature, self.version), (self.restricted_feature, self.restricted_version)):
            Deployment.objects.create(
                feature=feature,
                environment="sandbox",
                region=feature.regions.first(),
                version=version,
                updated_at=timezone.now(),
                updated_by=governance_admin,
            )
        self.verification_run = AuditVerificationRun.objects.create(
            started_by=governance_admin, started_at=timezone.now(), updated_at=timezone.now(), status="passed"
        )
        self.token, _ = api_token_create(actor=governance_admin, user=governance_admin, name="ci-pipeline")
        self.grant = reviewer_grant_create(
            actor=governance_admin,
            feature=self.restricted_feature,
            user=UserFactory(username="rae-reviewer", roles=["security"]),
            reason="Security review.",
            expires_at=timezone.now() + timedelta(days=7),
        )
        self.changes = {
            feature: FeatureChangeRequest.objects.create(
                feature=feature,
                changes={"risk_tier": "low"},
                reason="Lower.",
                requested_by=governance_admin,
                before={"risk_tier": feature.risk_tier, "restricted": feature.restricted, "regions": ["eu"]},
            )
            for feature in (self.feature, self.restricted_feature)
        }

    def url(self, name, *, feature=None, version=None):
        """The URL of a registry route, its arguments filled with real objects of this world."""
        feature = feature or self.feature
        version = version or (self.restricted_version if feature == self.restricted_feature else self.version)
        route = next(route for route in REGISTRY_ROUTES if route.name == name)
        kind = name.split("_")[0]
        if kind == "reviewer" and feature == self.feature:
            feature = self.restricted_feature  # reviewer grants exist only on restricted features
        kwargs = {}
        for parameter in route.pattern.converters:
            if parameter == "slug":
                kwargs["slug"] = self.version.model.vendor.slug if kind == "vendor" else feature.slug
            elif parameter == "environment":
                kwargs["environment"] = "sandbox"
            elif parameter == "region":
                kwargs["region"] = feature.regions.first().code
            elif parameter == "number":
                kwargs["number"] = version.number
            elif parameter == "pk":
                kwargs["pk"] = {
                    "model": self.version.model.pk,
                    "prompt": self.version.prompt.pk,
                    "policy": self.version.policy_pack.pk,
                    "dataset": self.dataset.pk,
                    "token": self.token.pk,
                    "reviewer": self.grant.pk,
                    "feature": self.changes[feature].pk,
                    "audit": self.verification_run.pk,
                }[kind]
            else:
                raise AssertionError(f"registry:{name} takes <{parameter}>, which this test does not know how to fill")
        return reverse(f"registry:{name}", kwargs=kwargs)


@pytest.fixture
def world(team, governance_admin):
    return World(team=team, governance_admin=governance_admin)


def test_the_registry_namespace_has_pages_to_check():
    assert "feature_list" in PAGE_NAMES and "feature_detail" in FEATURE_PAGE_NAMES
    assert set(FEATURE_EDIT_PAGE_NAMES) <= set(FEATURE_PAGE_NAMES)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client, world, name):
    url = world.url(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_the_sign_in_page_opens_without_signing_in(client, db):
    response = client.get("/accounts/login/?next=/features/")

    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_opens_for_a_governance_admin(client, world, governance_admin, name):
    client.force_login(governance_admin)

    response = client.get(world.url(name))

    assert response.status_code == 200, f"registry:{name} answered {response.status_code}"


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_post_only_actions_refuse_get(client, world, governance_admin, name):
    client.force_login(governance_admin)

    assert client.get(world.url(name)).status_code == 405


@pytest.mark.parametrize("name", FEATURE_PAGE_NAMES)
def test_a_restricted_features_pages_do_not_exist_for_an_outsider(client, world, outsider, name):
    client.force_login(outsider)

    response = client.get(world.url(name, feature=world.restricted_feature))

    assert response.status_code == 404
    assert b"Fraud signals" not in response.content


@pytest.mark.parametrize("name", FEATURE_ACTION_NAMES)
def test_a_restricted_features_actions_do_not_exist_for_an_outsider(client, world, outsider, name):
    client.force_login(outsider)

    response = client.post(world.url(name, feature=world.restricted_feature), {"reason": "x"})

    assert response.status_code == 404
    assert b"Fraud signals" not in response.content
    assert FeatureChangeRequest.objects.get(feature=world.restricted_feature).is_pending


@pytest.mark.parametrize("name", FEATURE_EDIT_PAGE_NAMES)
def test_posting_to_a_restricted_features_edit_pages_is_404_and_changes_nothing(client, world, outsider, name):
    client.force_login(outsider)

    response = client.post(world.url(name, feature=world.restricted_feature), {"reason": "x", "change_summary": "x"})

    assert response.status_code == 404
    world.restricted_version.refresh_from_db()
    assert world.restricted_version.is_draft
    assert FeatureVersion.objects.filter(feature=world.restricted_feature).count() == 1


@pytest.mark.parametrize("persona", ["outsider", "other_product_owner", "auditor", "support_agent"])
@pytest.mark.parametrize("name", FEATURE_EDIT_PAGE_NAMES)
def test_edit_pages_of_a_visible_feature_are_forbidden_to_non_owners(client, world, request, persona, name):
    client.force_login(request.getfixturevalue(persona))
    url = world.url(name)

    assert client.get(url).status_code == 403
    assert client.post(url, {"reason": "x", "change_summary": "x"}).status_code == 403
    world.version.refresh_from_db()
    assert world.version.is_draft
    assert world.feature.versions.count() == 1


GOVERNANCE_FEATURE_PAGE_NAMES = ["reviewer_grant_create", "reviewer_grant_revoke"]


@pytest.mark.parametrize("name", FEATURE_PAGE_NAMES)
def test_the_owning_team_opens_its_restricted_features_pages(client, world, product_owner, name):
    """...all but governance's own: bringing reviewers in (403, the team sees the feature)."""
    client.force_login(product_owner)

    expected = 403 if name in GOVERNANCE_FEATURE_PAGE_NAMES else 200
    assert client.get(world.url(name, feature=world.restricted_feature)).status_code == expected


@pytest.mark.parametrize(
    "persona, allowed",
    [
        ("governance_admin", set(CATALOG_CREATE_PAGE_NAMES)),
        ("product_owner", {"prompt_create", "dataset_create"}),
        ("ml_engineer", {"prompt_create", "dataset_create"}),
        ("security_reviewer", set()),
        ("outsider", set()),
    ],
)
def test_catalog_create_pages_follow_catalog_rights(client, world, request, persona, allowed):
    client.force_login(request.getfixturevalue(persona))

    statuses = {name: client.get(world.url(name)).status_code for name in CATALOG_CREATE_PAGE_NAMES}

    assert statuses == {name: 200 if name in allowed else 403 for name in CATALOG_CREATE_PAGE_NAMES}


@pytest.mark.parametrize(
    "persona, status",
    [
        ("governance_admin", 200),
        ("auditor", 200),
        ("product_owner", 403),
        ("support_agent", 403),
        ("outsider", 403),
    ],
)
def test_the_audit_trail_page_is_for_governance_and_auditors(client, world, request, persona, status):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(reverse("registry:audit_list")).status_code == status


def test_the_register_page_tells_an_auditor_why_they_cannot_register(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("registry:feature_create"))
    assert response.status_code == 403
    assert "Auditors have read-only access" in response.content.decode()


def test_the_register_page_tells_someone_without_a_team_why_they_cannot_register(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("registry:feature_create"))
    assert response.status_code == 403
    assert "not a member of any team" in response.content.decode()
