"""Issue 16: webhook secrets are encrypted at rest with a key from the environment; deliveries are still signed
with the secret itself, so receivers verify them as before."""

from __future__ import annotations

import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps as django_apps
from django.db import connection

from core import encryption
from tests.webhooks.test_delivery import expected_signature, hook, ping, send  # noqa: F401 - fixtures
from webhooks.models import WebhookSubscription

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored_secret(subscription) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT secret FROM {WebhookSubscription._meta.db_table} WHERE id = %s", [subscription.pk])
        return cursor.fetchone()[0]


def test_the_database_holds_ciphertext_and_deliveries_still_verify(hook, ping, receiver):
    stored = stored_secret(hook)

    assert stored.startswith("enc:v1:") and hook.raw_secret not in stored
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == hook.raw_secret

    send(ping)

    [request] = receiver.requests
    timestamp = request.headers["X-Gatehouse-Timestamp"]
    assert request.headers["X-Gatehouse-Signature"] == expected_signature(hook.raw_secret, timestamp, request.body)


def test_the_migration_encrypts_secrets_stored_in_clear(hook):
    with connection.cursor() as cursor:  # as stored before this change
        cursor.execute(
            f"UPDATE {WebhookSubscription._meta.db_table} SET secret = %s WHERE id = %s",
            ["legacy-plain-secret", hook.pk],
        )
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == "legacy-plain-secret"  # read as it is meanwhile

    migration = importlib.import_module("webhooks.migrations.0006_encrypt_secrets")
    migration.encrypt_secrets(django_apps, None)

    assert stored_secret(hook).startswith("enc:v1:") and "legacy-plain-secret" not in stored_secret(hook)
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == "legacy-plain-secret"


def test_the_key_comes_from_the_environment_and_rotates(hook, settings):
    settings.GATEHOUSE_ENCRYPTION_KEY = KEY_A
    encryption.reencrypt_all()
    under_a = stored_secret(hook)
    assert Fernet(KEY_A.encode()).decrypt(under_a.removeprefix("enc:v1:").encode()).decode() == hook.raw_secret

    settings.GATEHOUSE_ENCRYPTION_KEY = KEY_B  # the old key dropped too early: a clear error, not garbage
    with pytest.raises(encryption.DecryptionFailed, match="GATEHOUSE_ENCRYPTION_KEY"):
        WebhookSubscription.objects.get(pk=hook.pk)

    settings.GATEHOUSE_ENCRYPTION_KEY = f"{KEY_B},{KEY_A}"  # the new key first, the old one still there
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == hook.raw_secret
    encryption.reencrypt_all()

    settings.GATEHOUSE_ENCRYPTION_KEY = KEY_B  # now the old key can go
    assert WebhookSubscription.objects.get(pk=hook.pk).secret == hook.raw_secret
