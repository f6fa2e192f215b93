"""Settings and commands that must refuse to run in production (issue 16): the demo seeder, and the
throwaway key tests use. Each settings case starts a fresh interpreter, since settings load once."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from registry.models import AIFeature

ROOT = Path(__file__).resolve().parents[2]


def start_django(**env):
    base = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "SECRET_KEY",
            "DJANGO_DEBUG",
            "ALLOWED_HOSTS",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "GATEHOUSE_ALLOW_INSECURE_KEY",
        }
    }
    base.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_insecure_key_is_refused_with_production_settings():
    started = start_django(DJANGO_DEBUG="0", GATEHOUSE_ALLOW_INSECURE_KEY="1", ALLOWED_HOSTS="gatehouse.example.com")

    assert started.returncode != 0
    assert "GATEHOUSE_ALLOW_INSECURE_KEY cannot be combined with production settings" in started.stderr


def test_the_insecure_key_is_refused_even_on_loopback_when_cookies_are_secure():
    started = start_django(DJANGO_DEBUG="0", GATEHOUSE_ALLOW_INSECURE_KEY="1", ALLOWED_HOSTS="127.0.0.1")

    assert started.returncode != 0
    assert "cannot be combined with production settings" in started.stderr


def test_the_insecure_key_still_serves_tests_on_plain_http_loopback():
    started = start_django(
        DJANGO_DEBUG="0",
        GATEHOUSE_ALLOW_INSECURE_KEY="1",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
    )

    assert started.returncode == 0, started.stderr
    assert "started" in started.stdout


def test_a_real_key_with_production_settings_starts():
    started = start_django(DJANGO_DEBUG="0", SECRET_KEY="k" * 60, ALLOWED_HOSTS="gatehouse.example.com")

    assert started.returncode == 0, started.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_without_debug_and_creates_nothing():
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="only with debug on"):
        call_command("seed_demo", stdout=io.StringIO())

    assert not AIFeature.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/features/", "/api/v1/incidents/", "/api/v1/audit/", "/api/v1/nowhere/"])
def test_authenticated_api_answers_are_never_stored(client, product_owner, path):
    client.force_login(product_owner)

    response = client.get(path)

    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_an_anonymous_api_refusal_is_not_stored_either(client):
    assert client.get("/api/v1/features/")["Cache-Control"] == "no-store"
