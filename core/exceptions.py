"""Errors services raise. Interfaces turn them into form errors, messages or HTTP answers.

Invalid input raises Django's ``ValidationError``; a missing right raises Django's
``PermissionDenied`` (or ``Refused``, one that says which rule refused); a request the current
state forbids raises ``Conflict``. Each may carry a machine ``code`` listed in
``core.error_codes``: the API sends it beside the human ``detail``.
"""

from django.core.exceptions import PermissionDenied

from core import error_codes


class Conflict(Exception):
    """The object's current state does not allow this (e.g. editing a submitted version).

    ``code`` says which rule (default: the code the message carries as a ``Reason``, else ``conflict``).
    """

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = _checked(code) or error_codes.code_of(message, error_codes.CONFLICT)


class Refused(PermissionDenied):
    """A ``PermissionDenied`` that says which rule refused (e.g. separation of duties). Pages still
    answer 403 with the message, as for Django's own; the API adds the code."""

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = _checked(code) or error_codes.code_of(message, error_codes.PERMISSION_DENIED)


def _checked(code: str | None) -> str | None:
    if code is not None and code not in error_codes.CODES:
        raise ValueError(f"{code!r} is not a listed error code (core.error_codes)")
    return code
