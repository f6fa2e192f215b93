"""The API's JSON parser: DRF's, with a bound on nesting.

No Gatehouse resource nests deeper than a handful of levels (a version's parameters, a webhook's
filters). A body nested thousands of levels deep made Python's decoder raise ``RecursionError`` (a 500),
and one a few hundred deep would parse, then exhaust the stack later, in hashing or rendering. Both are
refused here as a parse error, before any view sees them.
"""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def depth_exceeds(value, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays or objects deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.") from None
        if depth_exceeds(data, MAX_DEPTH):
            raise ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.")
        return data
