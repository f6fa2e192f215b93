"""Proving a page or endpoint costs the same number of queries whatever the number of rows it shows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

SMALL, LARGE = 2, 8


def count_queries(client, target):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(target)
    assert response.status_code == 200, target
    return len(captured.captured_queries), response


def rows_shown(response):
    """How many rows a response shows: an API list (paginated or not), a page's ``rows`` or ``object_list``."""
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        return len(body["results"] if isinstance(body, dict) else body)
    context = response.context
    if "rows" in context:
        return len(context["rows"])
    return len(context["object_list"])


def assert_constant(client, target, grow, django_assert_max_num_queries, max_queries, *, rows=rows_shown, prepare=None):
    """``grow(n)`` adds n rows. The query count at SMALL and LARGE rows must be equal, and at most ``max_queries``.

    ``prepare()``, when given, runs before each measurement (a page that keeps answers in the shared cache
    is measured cold, with it emptied, or warm, with the page asked once)."""
    grow(SMALL)
    client.get(target)  # warm per-process caches (content types) so both measurements are alike
    if prepare:
        prepare()
    small, small_response = count_queries(client, target)
    grow(LARGE - SMALL)
    if prepare:
        prepare()
    large, large_response = count_queries(client, target)

    assert rows(large_response) > rows(small_response), "the larger set must show more rows"
    assert large == small, f"{target}: {small} queries for {SMALL} rows but {large} for {LARGE}"
    if prepare:
        prepare()
    with django_assert_max_num_queries(max_queries):
        client.get(target)
