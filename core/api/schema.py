"""The API's error answers, documented once for every operation (a drf-spectacular postprocessing hook).

Every endpoint is behind authentication and a permission check, so each may answer 401 or 403; what
parses input (a body or query parameters) may answer 400 with field errors; what names an object in
its path or body, or pages a list, may answer 404 (what the user may not see is "not found"); every write may answer 409 when a rule of the domain forbids
it (``core.api.exceptions``); any operation may answer 503 when the database is unavailable.
Every error body carries a machine ``code`` from ``core.error_codes`` (the ``ErrorCode`` enum).
Fuzzing the schema (tests/fuzz) holds the API to this.
"""

from __future__ import annotations

from core import error_codes

ERROR_COMPONENT = "ErrorDetail"
VALIDATION_COMPONENT = "ValidationErrorDetail"
CODE_COMPONENT = "ErrorCode"

CODE_SCHEMA = {
    "type": "string",
    "enum": list(error_codes.CODES),
    "description": "What kind of refusal this is; stable, for machines to branch on (the detail is for people).\n\n"
    + "\n".join(f"* `{code}` - {description}" for code, description in error_codes.CODES.items()),
}
CODE_REF = {"$ref": f"#/components/schemas/{CODE_COMPONENT}"}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Why the request was refused.",
    "properties": {"detail": {"type": "string"}, "code": CODE_REF},
    "required": ["detail", "code"],
}
VALIDATION_SCHEMA = {
    "type": "object",
    "description": "Field name (or ``detail``/``non_field_errors``) → what is wrong with it, and the ``code`` "
    "(``invalid``, or a specific one such as ``region_not_allowed``).",
    "properties": {"code": CODE_REF},
    "required": ["code"],
    "additionalProperties": {},
}

WRITE_METHODS = {"post", "put", "patch", "delete"}


def _response(description: str, component: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_idempotency(result, generator, request, public):
    """Every POST takes an optional ``Idempotency-Key`` header (``core.api.idempotency``) and may answer 422
    when the key was used for another request."""
    from core.api.idempotency import HEADER, KEPT, REPLAYED_HEADER

    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]([ -~]*[!-~])?$"},
        "description": f"Makes a retry safe: the same key (yours, within {int(KEPT.total_seconds() // 3600)} hours) "
        "with the same body answers the first answer again (status and body, with the header "
        f"`{REPLAYED_HEADER}: true`) and writes nothing; with another body or endpoint, 422 "
        f"`{error_codes.IDEMPOTENCY_KEY_REUSED}`. Only successful answers are kept. Use a new UUID per request.",
    }
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("post")
        if not isinstance(operation, dict):
            continue
        operation.setdefault("parameters", []).append(parameter)
        responses = operation.setdefault("responses", {})
        responses.setdefault("422", _response(f"The {HEADER} was already used for another request.", ERROR_COMPONENT))
        responses.setdefault(
            "400",
            _response(f"The input (or the {HEADER} header) is invalid; each field says why.", VALIDATION_COMPONENT),
        )
    return result


def document_error_responses(result, generator, request, public):
    """Add the 400/401/403/404/409/503 answers an operation can give, unless it documents its own; an
    error answer an operation documents without a body gets the error body it sends."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(CODE_COMPONENT, CODE_SCHEMA)
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
                errors["404"] = _response(
                    "No such object visible to you (in the path or the body), or no such page.", ERROR_COMPONENT
                )
            if method in WRITE_METHODS:
                errors["409"] = _response(
                    "A rule of the domain forbids this now; the detail says which.", ERROR_COMPONENT
                )
            errors["503"] = _response(
                "The database or the task queue was unavailable; nothing was saved. "
                "Retry after the Retry-After header's seconds.",
                ERROR_COMPONENT,
            )
            for status, response in errors.items():
                operation["responses"].setdefault(status, response)
            for status, response in operation["responses"].items():
                if status[0] in "45" and "content" not in response:
                    component = VALIDATION_COMPONENT if status == "400" else ERROR_COMPONENT
                    response["content"] = _response("", component)["content"]
    return result
