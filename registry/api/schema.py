"""The API's error answers, documented once for every operation (a drf-spectacular postprocessing hook).

Every endpoint is behind authentication and a permission check, so each may answer 401 or 403; what
parses input (a body or query parameters) may answer 400 with field errors; what names an object in
its path or body, or pages a list, may answer 404 (what the user may not see is "not found"); every write may answer 409 when a rule of the domain forbids
it (``registry.api.exceptions``). Fuzzing the schema (tests/fuzz) holds the API to this.
"""

from __future__ import annotations

ERROR_COMPONENT = "ErrorDetail"
VALIDATION_COMPONENT = "ValidationErrorDetail"

ERROR_SCHEMA = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_SCHEMA = {
    "type": "object",
    "description": "Field name (or ``detail``/``non_field_errors``) → what is wrong with it.",
    "additionalProperties": {},
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _response(description: str, component: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_error_responses(result, generator, request, public):
    """Add the 400/401/403/404/409 answers an operation can give, unless it documents its own."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    schemas.setdefault(VALIDATION_COMPONENT, VALIDATION_SCHEMA)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.get("parameters", [])
            locations = {parameter.get("in") for parameter in parameters}
            names = {parameter.get("name") for parameter in parameters}
            errors = {
                "401": _response("Not signed in, or the API token is invalid or revoked.", ERROR_COMPONENT),
                "403": _response("Signed in, but not allowed to do this.", ERROR_COMPONENT),
            }
            if "requestBody" in operation or "query" in locations:
                errors["400"] = _response("The input is invalid; each field says why.", VALIDATION_COMPONENT)
            if "path" in locations or "page" in names or "requestBody" in operation:
                errors["404"] = _response("No such object visible to you (in the path or the body), or no such page.", ERROR_COMPONENT)
            if method in WRITE_METHODS:
                errors["409"] = _response("A rule of the domain forbids this now; the detail says which.",
                                          ERROR_COMPONENT)
            for status, response in errors.items():
                operation["responses"].setdefault(status, response)
    return result
