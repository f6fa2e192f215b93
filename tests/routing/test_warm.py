"""``manage.py routing_warm``: every route decided ahead of traffic, shared with the web processes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from routing import cache
from tests.routing.conftest import resolve


@pytest.fixture
def file_cache(tmp_path):
    """A cache shared between processes, as Redis (or the demo's file cache) is."""
    with override_settings(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path / "cache"),
            }
        }
    ):
        yield


def test_warming_decides_every_deployment_so_the_first_resolve_costs_no_decision_query(
    file_cache, router, live, django_assert_max_num_queries
):
    resolve(router, feature="no-such-feature")  # the router's token is known from here on
    out = StringIO()
    call_command("routing_warm", stdout=out)
    assert "Warmed 2 resolve decisions" in out.getvalue()  # claims-triage in eu and us
    cache.decisions.clear()  # a web process that computed nothing itself
    with django_assert_max_num_queries(0):
        for region in ("eu", "us"):
            response = resolve(router, region=region)
            assert response.status_code == 200
            assert response.json()["version"]["number"] == live.number


def test_warming_is_refused_when_the_cache_is_this_process_alone(db):
    with pytest.raises(CommandError, match="CACHE_URL is unset"):
        call_command("routing_warm", stdout=StringIO())


def test_invalidating_makes_every_process_compute_again_what_it_kept(file_cache, router, live):
    """After routing data was changed in SQL (nothing audited, so nothing invalidated), ``--invalidate``
    is how an operator makes the fleet see it: decisions are otherwise kept until something changes."""
    assert resolve(router).json()["version"]["number"] == live.number
    live.feature.deployments.filter(region__code="eu").delete()  # behind the services' back
    assert resolve(router).status_code == 200, "kept: nothing told the processes"

    out = StringIO()
    call_command("routing_warm", "--invalidate", stdout=out)
    assert "Started a new epoch" in out.getvalue()
    answer = resolve(router)
    assert answer.status_code == 409, answer.content  # not deployed there any more: refused with reasons
