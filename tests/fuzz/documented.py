"""Calls through the test client whose answers are checked against the OpenAPI document the API serves:
status code documented, content type documented, body valid against the documented schema
(schemathesis's own checks, as in the fuzzing). Scenario tests use it to drive successful transitions,
which random fuzzing seldom reaches."""

from __future__ import annotations

import http.client
import json
from functools import lru_cache

import requests
import schemathesis
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]


@lru_cache(maxsize=1)
def openapi():
    """The document ``/api/schema/`` serves, generated in-process."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    raw = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return raw, schemathesis.openapi.from_dict(raw)


def call(
    client, method: str, template: str, *, path: dict | None = None, query: dict | None = None, body=None, status: int
):
    """``method template`` through ``client``; the answer must have ``status`` and match the document."""
    path = path or {}
    url = template.format(**path)
    if method == "GET":
        response = client.get(url, query or {})
    else:
        response = getattr(client, method.lower())(url, body if body is not None else {}, format="json")
    operation = openapi()[1][template][method]
    sends_body = method != "GET" and body is not None
    case = operation.Case(
        path_parameters=path, query=query, **({"body": body, "media_type": "application/json"} if sends_body else {})
    )
    sent = requests.Request(
        method, f"http://testserver{url}", params=query, json=body if method != "GET" else None
    ).prepare()
    converted = Response(
        status_code=response.status_code,
        headers={name.lower(): [value] for name, value in response.items()},
        content=response.content,
        request=sent,
        elapsed=0.0,
        verify=False,
        message=http.client.responses.get(response.status_code, ""),
    )
    case.validate_response(converted, checks=CHECKS)
    assert response.status_code == status, (method, url, response.status_code, response.content[:500])
    return response.json() if response.content else None
