"""No N+1 on the gate pages and endpoints: the queue, the request list and review page, a feature page
with its deployments and their history, and the API lists cost the same number of queries for 2 rows
as for 8 (each row with its own team, people, model and prompt, so a missing select_related shows)."""

import itertools
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.choices import RequestStatus
from approvals.services import (
    approval_request_create,
    promotion_execute,
    signoff_decide,
)
from registry.models import Deployment, DeploymentEvent, Region
from registry.services import (
    audit_record,
    evaluation_record,
    version_create,
    version_submit,
)
from tests.factories import (
    CatalogModelFactory,
    EvaluationFactory,
    FeatureFactory,
    PolicyPackFactory,
    PromptVersionFactory,
    TeamFactory,
    UserFactory,
    VendorFactory,
)
from tests.query_counts import assert_constant

pytestmark = pytest.mark.slow  # query counts at two sizes of every list: `make test-fast` leaves them out

_serial = itertools.count(1)
EVIDENCE = ("benchmark", "safety", "privacy_review")


class Gates:
    """Grows requests (pending, or approved and live), each on its own feature, team, people and pins."""

    def __init__(self, *, reviewers, governance_admin):
        self.reviewers = reviewers
        self.governance_admin = governance_admin
        self.regions = list(Region.objects.filter(code__in=["eu", "us"]).order_by("code"))

    def version(self, n):
        team = TeamFactory(slug=f"gate-team-{n}")
        author = UserFactory(username=f"author-{n}", roles=["ml"], teams=[team])
        requester = UserFactory(username=f"requester-{n}", teams=[team])
        feature = FeatureFactory(
            slug=f"gated-{n}",
            team=team,
            risk_tier="high",
            regions=self.regions,
            accountable_owner=UserFactory(username=f"owner-{n}"),
            incident_owner=UserFactory(username=f"oncall-{n}"),
            rollback_path="Flip the flag back.",
            monitors=f"https://grafana.example.test/d/{n}",
        )
        pins = {
            "model": CatalogModelFactory(vendor=VendorFactory(slug=f"gate-vendor-{n}"), regions=self.regions),
            "prompt": PromptVersionFactory(name=f"gate-prompt-{n}"),
            "policy_pack": PolicyPackFactory(name=f"gate-policy-{n}", allowed_regions=self.regions),
        }
        version = version_create(actor=author, feature=feature, change_summary="First.", **pins)
        version = version_submit(actor=author, version=version)
        for kind in EVIDENCE:
            evaluation_record(
                actor=author,
                version=version,
                kind=kind,
                suite=f"{kind}-suite",
                metric="score",
                score=0.9,
                threshold=0.8,
                run_at=timezone.now() - timedelta(days=1),
            )
        return version, requester

    def add_pending(self, count):
        requests = []
        for _ in range(count):
            version, requester = self.version(next(_serial))
            requests.append(
                approval_request_create(
                    actor=requester,
                    version=version,
                    environment="production",
                    regions=self.regions,
                    note="Please review.",
                )
            )
        return requests

    def add_live(self, count):
        for request in self.add_pending(count):
            for signoff in request.signoffs.order_by("role"):
                signoff_decide(actor=self.reviewers[signoff.role], signoff=signoff, decision="approve", reason="ok")
            request.refresh_from_db()
            assert request.status == RequestStatus.APPROVED
            promotion_execute(actor=self.governance_admin, request=request)


@pytest.fixture
def gates(second_ml_engineer, security_reviewer, legal_reviewer, governance_admin):
    reviewers = {
        "ml": second_ml_engineer,
        "security": security_reviewer,
        "legal": legal_reviewer,
        "product": UserFactory(username="pia-product", roles=["product"]),
    }
    return Gates(reviewers=reviewers, governance_admin=governance_admin)


# --- Lists ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, persona, max_queries",
    [
        pytest.param(reverse("approvals:queue"), "security_reviewer", 10, id="queue-page"),
        (reverse("approvals:request_list"), "product_owner", 9),
        ("/api/v1/queue/", "security_reviewer", 5),
        # + the newest evidence of the page's versions and the holders of the pending sign-offs' roles
        # (each request's checks and who may still sign each slot), which of the features have a
        # regulatory profile that adds a check (1, for the page), and the trail's position (who may sign
        # is kept until it moves): cold, nothing kept ...
        pytest.param("/api/v1/approval-requests/", "product_owner", 12, id="api-cold"),
        # ... and warm, who may sign each request read from the shared cache instead of the role holders
        pytest.param("/api/v1/approval-requests/", "product_owner", 10, id="api-warm"),
    ],
)
def test_request_lists_cost_the_same_queries_for_2_or_8_requests(
    client, gates, request, django_assert_max_num_queries, url, persona, max_queries
):
    client.force_login(request.getfixturevalue(persona))
    prepare = {"api-cold": cache.clear, "api-warm": lambda: client.get(url)}.get(request.node.callspec.id)

    assert_constant(
        client,
        url,
        gates.add_pending,
        django_assert_max_num_queries,
        max_queries,
        prepare=prepare,
    )


@pytest.mark.parametrize(
    "url, max_queries",
    [
        (reverse("approvals:request_list"), 9),
        ("/api/v1/approval-requests/", 10),
        ("/api/v1/deployments/", 5),
        ("/api/v1/deployment-events/", 5),
    ],
)
def test_lists_of_decided_and_live_requests_cost_the_same_for_2_or_8(
    client, gates, product_owner, django_assert_max_num_queries, url, max_queries
):
    client.force_login(product_owner)

    assert_constant(client, url, gates.add_live, django_assert_max_num_queries, max_queries)


# --- One request, one feature --------------------------------------------------------------------


def test_a_review_page_costs_the_same_for_2_or_8_evaluations_and_history_events(
    client, gates, security_reviewer, django_assert_max_num_queries
):
    [approval] = gates.add_pending(1)
    version = approval.version

    def grow(count):
        for _ in range(count):
            n = next(_serial)
            EvaluationFactory(
                version=version,
                kind="bias",
                recorded_by=UserFactory(username=f"evaluator-{n}"),
                region=gates.regions[n % 2],
                run_at=timezone.now() - timedelta(hours=n),
            )
            with transaction.atomic():
                audit_record(
                    actor=UserFactory(username=f"commenter-{n}"),
                    action="test.noted",
                    target=approval,
                    feature=version.feature,
                    payload={"n": n},
                )

    def rows(response):
        return len(response.context["evaluations"]) + len(response.context["history"])

    client.force_login(security_reviewer)
    # 28: 4 for what resolve would answer, 2 for who may still sign each slot (the holders' roles, then each
    # holder once), 2 for the readable trail (the names of the people in it, and the links to the kinds of
    # object it names).
    # 29 with the feature's regulatory profile (whether the technical file is checked).
    assert_constant(client, approval.get_absolute_url(), grow, django_assert_max_num_queries, 29, rows=rows)


def test_a_review_page_with_a_live_version_costs_the_same_for_2_or_8_regions(
    client, gates, security_reviewer, django_assert_max_num_queries
):
    """The diff and the live grid: one live deployment per region, each by its own person."""
    [approval] = gates.add_pending(1)
    feature = approval.version.feature

    def grow(count):
        for _ in range(count):
            n = next(_serial)
            region = Region.objects.create(code=f"rr-{n}", name=f"Review region {n}")
            feature.regions.add(region)
            approval.regions.add(region)
            release(feature, region=region, from_version=None, n=n)  # another version, live there

    def rows(response):
        assert response.context["diff"], "a version is live: the page shows the diff"
        return len(response.context["regions"])

    client.force_login(security_reviewer)
    # 38: 4 for resolve's answers, 2 for who may still sign each slot, 2 for the readable trail.
    # 39 with the feature's regulatory profile.
    assert_constant(client, approval.get_absolute_url(), grow, django_assert_max_num_queries, 39, rows=rows)


def release(feature, *, region, from_version, n, live=True):
    """A new submitted version of ``feature`` (own model, prompt, releaser) promoted in ``region``: the
    deployment pointer (when ``live``) and its event, as plain rows."""
    author = feature.team.group.user_set.first()
    version = version_submit(
        actor=author,
        version=version_create(
            actor=author,
            feature=feature,
            change_summary=f"Change {n}.",
            model=CatalogModelFactory(vendor=VendorFactory(slug=f"feature-vendor-{n}"), regions=[region]),
            prompt=PromptVersionFactory(name=f"feature-prompt-{n}"),
            policy_pack=PolicyPackFactory(allowed_regions=[region]),
        ),
    )
    actor = UserFactory(username=f"releaser-{n}")
    now = timezone.now()
    if live:
        Deployment.objects.update_or_create(
            feature=feature,
            environment="production",
            region=region,
            defaults={"version": version, "updated_at": now, "updated_by": actor},
        )
    DeploymentEvent.objects.create(
        feature=feature,
        environment="production",
        region=region,
        kind="promoted",
        from_version=from_version,
        to_version=version,
        actor=actor,
        reason=f"Release {n}",
        at=now,
    )
    return version


@pytest.fixture
def live_feature(gates):
    gates.add_live(1)
    return DeploymentEvent.objects.get(region__code="eu").feature


def feature_page_rows(response):
    return len(response.context["deployments"]) + len(response.context["deployment_events"])


def test_a_feature_page_costs_the_same_for_2_or_8_deployment_events(
    client, gates, live_feature, product_owner, django_assert_max_num_queries
):
    """Releases one after another in eu: the history grows, the live grid stays one row per region."""
    versions = [live_feature.versions.get()]
    eu = Region.objects.get(code="eu")

    def grow(count):
        for _ in range(count):
            versions.append(release(live_feature, region=eu, from_version=versions[-1], n=next(_serial)))

    client.force_login(product_owner)
    # 6 of them: which live routes resolve refuses (4) and which a rollback may return from (2); and the
    # readable history: 1 for the names of its people, 1 per kind of object it links (versions, deployments,
    # requests, evaluations), whatever the number of events.
    assert_constant(
        client,
        live_feature.get_absolute_url(),
        grow,
        django_assert_max_num_queries,
        43,  # and 1 for the regulatory profile (may the feature be promoted under the EU AI Act?), 5 for the
        # monitoring plan's section and who may export the decision log
        rows=lambda response: len(response.context["deployment_events"]),
    )


def test_a_feature_page_costs_the_same_for_2_or_8_deployments(
    client, gates, live_feature, product_owner, django_assert_max_num_queries
):
    """Each release goes live in a region of its own: the live grid grows with the history."""
    versions = [live_feature.versions.get()]

    def grow(count):
        for _ in range(count):
            n = next(_serial)
            region = Region.objects.create(code=f"fr-{n}", name=f"Feature region {n}")
            live_feature.regions.add(region)
            versions.append(release(live_feature, region=region, from_version=versions[-1], n=n))

    client.force_login(product_owner)
    # 36: as above (the history links one kind of object fewer here).
    assert_constant(
        client, live_feature.get_absolute_url(), grow, django_assert_max_num_queries, 42, rows=feature_page_rows
    )
