"""Errors services raise. Interfaces turn them into form errors, messages or HTTP answers.

Invalid input raises Django's ``ValidationError``; a missing right raises Django's
``PermissionDenied``; a request the current state forbids raises ``Conflict``.
"""


class Conflict(Exception):
    """The object's current state does not allow this (e.g. editing a submitted version)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
