"""Secrets encrypted at rest: webhook signing secrets today, connector tokens tomorrow.

Some secrets cannot be hashed like API tokens, because the app must use them (a webhook secret signs every
delivery). They are stored encrypted with Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a
key from the environment, so a database dump, a backup or a read-only SQL injection does not give them away.

``GATEHOUSE_ENCRYPTION_KEY``: one or more Fernet keys, comma-separated (``python -c "from
cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``). The first encrypts; every one
decrypts, so a key is rotated by putting the new one first, running ``manage.py encrypt_secrets`` (every
encrypted value written again under the first key), then removing the old key. Unset, a key is derived from ``SECRET_KEY``: still
encrypted at rest, but whoever has the settings has the key, and rotating ``SECRET_KEY`` makes the stored
secrets unreadable; production should set its own key (the derived key keeps decrypting what it encrypted, so
run ``manage.py encrypt_secrets`` once after setting it).

Stored form: ``enc:v1:<fernet token>``. A value without the prefix is a legacy plaintext (written before the
field was encrypted) and is read as it is; the migration that introduced the field encrypts them all.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc:v1:"


class DecryptionFailed(ImproperlyConfigured):
    """A stored secret that no configured key opens: GATEHOUSE_ENCRYPTION_KEY (or SECRET_KEY) changed."""


def _derived_key(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"gatehouse-encryption-at-rest:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet(keys: str, secret_key: str):
    from cryptography.fernet import Fernet, MultiFernet

    given = [key.strip() for key in keys.split(",") if key.strip()]
    try:
        # The key derived from SECRET_KEY always decrypts last: setting a key for the first time loses nothing.
        fernets = [Fernet(key.encode()) for key in given] + [Fernet(_derived_key(secret_key))]
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"GATEHOUSE_ENCRYPTION_KEY: {error}. Give one or more Fernet keys (44 characters of url-safe base64), "
            "comma-separated, the newest first."
        ) from None
    return MultiFernet(fernets)


def fernet():
    return _fernet(settings.GATEHOUSE_ENCRYPTION_KEY or "", settings.SECRET_KEY)


def encrypt(text: str) -> str:
    return PREFIX + fernet().encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    """The plaintext of a stored value (a legacy plaintext, without the prefix, is returned as it is)."""
    if not stored.startswith(PREFIX):
        return stored
    from cryptography.fernet import InvalidToken

    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise DecryptionFailed(
            "A stored secret cannot be decrypted with GATEHOUSE_ENCRYPTION_KEY: keep the key it was encrypted "
            "with in the list (after the new one) until every secret is written again."
        ) from None


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def reencrypt_all() -> int:
    """Write every value of every ``EncryptedTextField`` again under the first key (rotation; legacy plaintext).
    Returns how many values were written."""
    from django.apps import apps

    written = 0
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            for pk, value in model._base_manager.values_list("pk", field.attname).iterator(chunk_size=500):
                if value:
                    model._base_manager.filter(pk=pk).update(**{field.attname: encrypt(value)})
                    written += 1
    return written


class EncryptedTextField(models.TextField):
    """A text field whose value is plaintext in Python and ciphertext in the database. Not searchable (each
    encryption differs); keep a plaintext prefix or hash beside it when it must be looked up or shown."""

    def from_db_value(self, value, expression, connection):
        return value if value is None else decrypt(value)

    def to_python(self, value):
        return value if value is None or not isinstance(value, str) else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or is_encrypted(value):
            return value
        return encrypt(value)
