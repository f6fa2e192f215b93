"""The compliance pages."""

from django.core.exceptions import ValidationError

from core.exceptions import Conflict


def refusal_text(error) -> str:
    """A service's refusal (a conflict, invalid input, a permission it denied) as one line for a message."""
    if isinstance(error, Conflict):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", None) or str(error)
