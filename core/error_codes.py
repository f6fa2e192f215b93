"""The machine-readable ``code`` every API error answer carries beside its human ``detail``.

One place lists them: the exception handler (``core.api.exceptions``) only sends codes listed
here, the OpenAPI schema documents them as an enum (``core.api.schema``), and the API guide (docs/api.md) lists
them. Codes are stable: a client may branch on them; the ``detail`` text may change.

Services choose a specific code by raising ``core.exceptions.Conflict(message, code=...)``,
``core.exceptions.Refused(message, code=...)`` (a ``PermissionDenied``), or Django's
``ValidationError`` with one of these codes; anything else gets the generic code of its status.
"""

from __future__ import annotations

# Generic codes, one per kind of answer.
INVALID = "invalid"
PARSE_ERROR = "parse_error"
REQUEST_TOO_LARGE = "request_too_large"
NOT_AUTHENTICATED = "not_authenticated"
AUTHENTICATION_FAILED = "authentication_failed"
PERMISSION_DENIED = "permission_denied"
NOT_FOUND = "not_found"
METHOD_NOT_ALLOWED = "method_not_allowed"
NOT_ACCEPTABLE = "not_acceptable"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
THROTTLED = "throttled"
CONFLICT = "conflict"
UNAVAILABLE = "unavailable"

# Specific reasons.
SEPARATION_OF_DUTIES = "separation_of_duties"
NOT_ELIGIBLE = "not_eligible"
REGION_NOT_ALLOWED = "region_not_allowed"
PROMOTION_FROZEN = "promotion_frozen"
EVIDENCE_STALE = "evidence_stale"
READINESS_UNMET = "readiness_unmet"
APPROVAL_PENDING = "approval_pending"
APPROVAL_EXPIRED = "approval_expired"
APPROVAL_NOT_APPROVED = "approval_not_approved"
APPROVAL_USED = "approval_used"
GATE_CHANGED = "gate_changed"
NO_GATE = "no_gate"
ALREADY_REQUESTED = "already_requested"
ALREADY_DECIDED = "already_decided"
INVALID_TRANSITION = "invalid_transition"
VERSION_NOT_SUBMITTED = "version_not_submitted"
ALREADY_LIVE = "already_live"
NOT_LIVE = "not_live"
NO_ROLLBACK_TARGET = "no_rollback_target"
NO_ELIGIBLE_ROUTE = "no_eligible_route"
WITHDRAWN = "withdrawn"
CHANGE_PENDING = "change_pending"
TOKEN_EXPIRED = "token_expired"
INSUFFICIENT_SCOPE = "insufficient_scope"
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
TECHNICAL_FILE_INCOMPLETE = "technical_file_incomplete"
PROHIBITED_PRACTICE = "prohibited_practice"

CODES: dict[str, str] = {
    INVALID: "400: the input is invalid; the other keys name each field and what is wrong with it.",
    PARSE_ERROR: "400: the body is not well-formed (e.g. broken JSON).",
    REQUEST_TOO_LARGE: "400: the body is too large, or has too many fields.",
    NOT_AUTHENTICATED: "401: not signed in and no API token sent.",
    AUTHENTICATION_FAILED: "401: the API token is unknown, revoked or malformed.",
    TOKEN_EXPIRED: "401: the API token expired; create a new one on the API tokens page.",
    PERMISSION_DENIED: "403: signed in, but your roles or teams do not allow this.",
    INSUFFICIENT_SCOPE: "403: the API token's scopes do not cover this operation (or it takes no token, "
    "e.g. alert intake without the alert_intake scope); the detail names the scopes that would.",
    SEPARATION_OF_DUTIES: "403: you wrote, submitted or requested this, or already signed another role of "
    "the request; someone else must review it. Also: nobody grants themselves a role or a team.",
    NOT_ELIGIBLE: "403: you may not sign this (you do not hold the role, or may not see the feature).",
    NOT_FOUND: "404: no such object visible to you, no such page, or no such URL.",
    METHOD_NOT_ALLOWED: "405: the operation does not take this HTTP method.",
    NOT_ACCEPTABLE: "406: the answer cannot be given in the media type asked for.",
    UNSUPPORTED_MEDIA_TYPE: "415: the body's media type is not accepted.",
    THROTTLED: "429: too many requests; retry after the time given.",
    CONFLICT: "409: a rule of the domain forbids this now; the detail says which.",
    REGION_NOT_ALLOWED: "400 or 409: a region asked for is one the feature or version may not serve there.",
    PROMOTION_FROZEN: "409: promotions of the feature are frozen (an open SEV1/SEV2 incident); rollbacks stay allowed.",
    EVIDENCE_STALE: "409: evidence the gate or the freshness rules require is stale, failing or missing now.",
    READINESS_UNMET: "409: a readiness item the gate requires (rollback path, monitor, incident owner, SLOs) "
    "is no longer in place.",
    APPROVAL_PENDING: "409: the gate request still waits for sign-offs or requirements.",
    APPROVAL_EXPIRED: "409: the approval expired; request the gate again.",
    APPROVAL_NOT_APPROVED: "409: the gate request was rejected or withdrawn.",
    APPROVAL_USED: "409: the approval already promoted once; request the gate again.",
    GATE_CHANGED: "409: the feature now needs another gate than the one the request passed.",
    NO_GATE: "409: no gate is assigned to the feature's risk tier and environment.",
    ALREADY_REQUESTED: "409: the version already has a pending request for that environment.",
    ALREADY_DECIDED: "409: the request or sign-off is already decided; it takes no more sign-offs.",
    INVALID_TRANSITION: "409: the object's current status does not allow this change.",
    VERSION_NOT_SUBMITTED: "409: only submitted versions go through a gate or live.",
    ALREADY_LIVE: "409: the version is already live everywhere asked for.",
    NOT_LIVE: "409: nothing is live there to roll back.",
    NO_ROLLBACK_TARGET: "409: no earlier version may be returned to there; promote an approved one instead.",
    NO_ELIGIBLE_ROUTE: "409 (resolve): no version or model may serve the feature there; the explanation says why.",
    CHANGE_PENDING: "409: the feature already has a change waiting for governance (a lower risk tier, a lifted "
    "restriction or wider regions); it must be decided first.",
    WITHDRAWN: "409 (resolve): the owning team or governance withdrew the feature from this region; the "
    "``withdrawn`` object says when and why.",
    TECHNICAL_FILE_INCOMPLETE: "409: the feature is confirmed high-risk under the EU AI Act and its technical file "
    "is incomplete (or its risk tier is not regulated); production waits for a complete file.",
    PROHIBITED_PRACTICE: "409: the feature is confirmed a prohibited practice under the EU AI Act; it is never promoted.",
    IDEMPOTENCY_KEY_REUSED: "422: the Idempotency-Key was already used (in the last 24 hours) for another request "
    "(another endpoint or body); use a new key for a new request.",
    UNAVAILABLE: "503: the database or the task queue was unavailable; nothing was saved or queued. Retry after the "
    "time given.",
}

# DRF's own error codes (``APIException.default_code``) → ours.
DRF_CODES = {
    "invalid": INVALID,
    "parse_error": PARSE_ERROR,
    "not_authenticated": NOT_AUTHENTICATED,
    "authentication_failed": AUTHENTICATION_FAILED,
    "permission_denied": PERMISSION_DENIED,
    "not_found": NOT_FOUND,
    "method_not_allowed": METHOD_NOT_ALLOWED,
    "not_acceptable": NOT_ACCEPTABLE,
    "unsupported_media_type": UNSUPPORTED_MEDIA_TYPE,
    "throttled": THROTTLED,
    "token_expired": TOKEN_EXPIRED,
    "insufficient_scope": INSUFFICIENT_SCOPE,
}

# The generic code of each status, for an answer no code was chosen for.
BY_STATUS = {
    400: INVALID,
    401: NOT_AUTHENTICATED,
    403: PERMISSION_DENIED,
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    406: NOT_ACCEPTABLE,
    409: CONFLICT,
    415: UNSUPPORTED_MEDIA_TYPE,
    429: THROTTLED,
    503: UNAVAILABLE,
}


def for_status(status: int) -> str:
    return BY_STATUS.get(status, INVALID if 400 <= status < 500 else UNAVAILABLE)


class Reason(str):
    """A human reason that also carries its machine code: a ``str`` everywhere it is shown (pages,
    messages, lists of blockers), with ``.code`` for the API. ``Reason(text, code)``."""

    code: str

    def __new__(cls, text: str, code: str):
        if code not in CODES:
            raise ValueError(f"{code!r} is not a listed error code")
        reason = super().__new__(cls, text)
        reason.code = code
        return reason

    def __getnewargs__(self):  # pickled (a cached decision's facts) and copied whole
        return str(self), self.code


def code_of(value, default: str) -> str:
    """The code a reason carries (a ``Reason``), or ``default``."""
    code = getattr(value, "code", None)
    return code if code in CODES else default
