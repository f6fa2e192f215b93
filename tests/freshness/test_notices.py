"""Owners are told once per change: the feature's accountable owner, its incident owner and its team's
members each get one in-app notice (and one email) per change set, however many findings it holds and
however often the sweep runs again, as a retried task would. People outside the feature hear nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from freshness.services import freshness_sweep
from registry.models import Notification
from tests.factories import UserFactory
from tests.freshness.world import default_gates, evidence, live  # noqa: F401  (default_gates: autouse)


def freshness_notices(**filters):
    return Notification.objects.filter(key__startswith="freshness:", **filters)


def told(**filters):
    """{username: number of freshness notices}."""
    counts = {}
    for username in freshness_notices(**filters).values_list("user__username", flat=True):
        counts[username] = counts.get(username, 0) + 1
    return counts


@pytest.fixture
def on_call(db):
    return UserFactory(username="oona-oncall")


@pytest.fixture
def claims(live, team, product_owner, on_call, ml_engineer):
    """A feature of the claims team (product owner and ML engineer), with an on-call incident owner
    outside the team, and a production version missing privacy review and with stale safety evidence."""
    UserFactory(username="ivy-inactive", teams=[team], is_active=False)
    feature = live.feature(name="Claims triage", owner=product_owner, incident_owner=on_call)
    version = live.version(feature=feature, kinds=("benchmark",))
    evidence(version, "safety", age_days=120)
    return feature, version


EVERYONE = {"pat-product": 1, "oona-oncall": 1, "mel-ml": 1}


def test_owner_incident_owner_and_team_members_each_get_one_notice_for_the_change_set(claims, outsider):
    feature, version = claims

    freshness_sweep()

    assert told() == EVERYONE  # not the outsider, nor the inactive member
    notice = freshness_notices(user__username="pat-product").get()
    assert notice.subject == "Evidence blocks promotions of Claims triage"
    assert f"Privacy review (v{version.number} in production): missing." in notice.body
    assert f"Safety (v{version.number} in production): stale." in notice.body
    assert "Blocks new promotions" in notice.body
    assert notice.url == f"/freshness/?feature={feature.slug}&status=all"


def test_running_the_sweep_again_tells_nobody_again(claims):
    freshness_sweep()
    freshness_sweep()
    freshness_sweep()

    assert told() == EVERYONE


def test_a_new_change_is_a_new_notice(claims):
    feature, version = claims
    evidence(version, "privacy_review", age_days=350)  # stale in 16 days: fresh enough today
    freshness_sweep()
    assert told() == EVERYONE

    in_three_days = timezone.now() + timedelta(days=3)  # stale in 13 days: due soon
    freshness_sweep(now=in_three_days)
    freshness_sweep(now=in_three_days)

    assert told() == {username: 2 for username in EVERYONE}
    newest = freshness_notices(user__username="mel-ml").order_by("-pk").first()
    assert f"Privacy review (v{version.number} in production): due soon" in newest.body
    assert "Safety" not in newest.body  # unchanged findings are not repeated


def test_each_feature_tells_its_own_people(claims, live, other_team, other_product_owner):
    live.version(kinds=(), team=other_team, owner=other_product_owner)

    freshness_sweep()

    assert told() == {**EVERYONE, "otto-product": 1}
    assert "Claims triage" not in freshness_notices(user__username="otto-product").get().subject


def test_due_soon_alone_needs_attention_but_does_not_say_blocked(live, product_owner):
    version = live.version(kinds=("safety", "privacy_review"), name="Mail sorter")
    evidence(version, "benchmark", age_days=80)

    freshness_sweep()

    notice = freshness_notices(user=product_owner).get()
    assert notice.subject == "Evidence needs attention on Mail sorter"
    assert "Blocks" not in notice.body
    assert "due soon, stale from" in notice.body


def test_closing_findings_tells_owners_it_is_fresh_again(claims):
    feature, version = claims
    freshness_sweep()

    for kind in ("safety", "privacy_review"):
        evidence(version, kind, age_days=0.01)
    freshness_sweep()

    assert told() == {username: 2 for username in EVERYONE}
    newest = freshness_notices(user__username="oona-oncall").order_by("-pk").first()
    assert newest.subject == "Evidence on Claims triage is fresh again"
    assert "resolved" in newest.body


def test_two_sweeps_send_exactly_one_email_per_recipient(claims, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep()
    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep()

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        f"{username}@example.test" for username in EVERYONE
    )
    assert {message.subject for message in mailoutbox} == {"Evidence blocks promotions of Claims triage"}
    assert not freshness_notices(emailed_at__isnull=True).exists()


def test_notices_of_a_run_that_died_before_emailing_are_emailed_by_the_next_run_once(
    claims, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as lost:
        freshness_sweep()  # committed its notices; the worker died before the emails went out
    assert lost and not mailoutbox

    next_hour = timezone.now() + timedelta(hours=1)  # the next scheduled run
    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep(now=next_hour)
    with django_capture_on_commit_callbacks(execute=True):
        freshness_sweep(now=next_hour + timedelta(hours=1))

    assert sorted(message.to[0] for message in mailoutbox) == sorted(
        f"{username}@example.test" for username in EVERYONE
    )
    assert told() == EVERYONE
