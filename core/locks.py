"""Named locks for writes that no existing row can guard (e.g. taking version 1 of a new name)."""

import zlib

from django.db import connection


def lock_name(namespace: str, key: str) -> None:
    """Hold a lock on ``namespace:key`` until the current transaction ends.

    PostgreSQL: a transaction-level advisory lock. SQLite serialises writers itself, so nothing to do.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("lock_name must be called inside a transaction")
    if connection.vendor != "postgresql":
        return
    # Two 32-bit keys: the namespace and the key, each a CRC32 (stable across processes, unlike hash()).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_int32(zlib.crc32(namespace.encode())), _int32(zlib.crc32(key.encode()))],
        )


def _int32(value: int) -> int:
    return value - (1 << 32) if value >= (1 << 31) else value


def save_unique(instance) -> None:
    """Save a new ``instance`` whose unique values (a slug, a name) a concurrent request may take first.

    ``full_clean`` before the save catches the usual duplicate; two requests that pass it at the same
    moment both insert, and the database refuses the second. Here that refusal becomes the same field
    error a sequential duplicate gets ("… with this Slug already exists."), instead of a 500. The save
    runs in a savepoint, so the caller's transaction can still ask the database which value was taken.
    """
    from django.db import IntegrityError, transaction

    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        instance.validate_unique()
        instance.validate_constraints()
        raise  # not a uniqueness the model declares: the API's handler answers 409
