"""How long logs are kept, and the floor under it.

The decision ledger and the audit trail are the logs a deployer and a provider keep (EU AI Act Art. 12, 19,
26): at least six months. Each store's retention is a setting read from the environment
(``GATEHOUSE_DECISION_RETENTION_DAYS``, ``GATEHOUSE_AUDIT_RETENTION_DAYS``); a value under
``MINIMUM_DAYS`` is refused when the settings load and again when a purge reads it, so nothing inside six
months can be purged whatever the configuration says.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MINIMUM_DAYS = 183  # six months


class RetentionTooShort(ImproperlyConfigured):
    """A retention under the floor: refused, nothing purged."""


def checked_days(name: str, value) -> int:
    """``value`` as a whole number of days for the setting ``name``; refused (``RetentionTooShort``) when it is
    not a whole number or under ``MINIMUM_DAYS``."""
    try:
        days = int(str(value).strip())
    except (TypeError, ValueError):
        raise RetentionTooShort(
            f"{name} must be a whole number of days (at least {MINIMUM_DAYS}); got {value!r}."
        ) from None
    if days < MINIMUM_DAYS:
        raise RetentionTooShort(
            f"{name}={days} is refused: logs are kept at least {MINIMUM_DAYS} days (six months), so nothing "
            f"younger can be purged. Set {name} to {MINIMUM_DAYS} or more."
        )
    return days


def retention_days(name: str) -> int:
    """The retention the setting ``name`` holds, checked again (settings can be overridden after they load)."""
    return checked_days(name, getattr(settings, name))


def cutoff(name: str, now: datetime) -> tuple[int, datetime]:
    """(days kept, the moment before which records may go) for the setting ``name``."""
    days = retention_days(name)
    return days, now - timedelta(days=days)
