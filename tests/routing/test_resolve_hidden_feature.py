"""Resolve answers the same for a restricted feature the caller may not see as for a feature that does not
exist, whatever else is asked (an unknown or unserved region, another environment, odd input): the status
and the body, byte for byte, cold and from the caches (the fast path included)."""

import pytest

from registry.models import AIFeature
from tests.conftest import forget_caches
from tests.factories import UserFactory
from tests.routing.conftest import RESOLVE, bearer

PARAMETERS = [
    {"region": "eu"},  # live there
    {"region": "uk"},  # a region that exists, not served
    {"region": "mars"},  # no such region
    {"region": "EU"},
    {"region": "eu", "environment": "sandbox"},
    {"region": "mars", "environment": "sandbox"},
    {"region": "eu", "environment": "staging"},
    {"region": "mars", "environment": "staging"},
    {"region": ""},
    {"region": " ", "environment": "production"},
    {"region": "x" * 300},
    {"region": "eu\x00"},
    {"region": "é"},
    {"region": "eu", "at": "2020-01-01", "unknown": "1"},
    {"region": "mars", "feature": " claims-triage "},
]


def answers(client, params):
    """The answer twice: the first fills the caches, the second may come from them (the fast path)."""
    query = {"feature": "claims-triage", **params}
    return [(response.status_code, response.content) for response in (client.get(RESOLVE, query) for _ in range(2))]


@pytest.mark.parametrize("params", PARAMETERS, ids=[repr(params)[:40] for params in PARAMETERS])
def test_a_hidden_restricted_feature_answers_as_one_that_does_not_exist(live, feature, other_team, params):
    AIFeature.objects.filter(pk=feature.pk).update(restricted=True)
    stranger = bearer(UserFactory(username="otis-ml", roles=["ml"], teams=[other_team]))

    hidden = answers(stranger, params)

    AIFeature.objects.filter(pk=feature.pk).update(slug="gone-away")  # now no feature has the slug
    forget_caches()
    absent = answers(stranger, params)

    assert hidden == absent
    assert hidden[0][0] in (400, 404)
