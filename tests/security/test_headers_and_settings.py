"""Security settings a deploy relies on: the Content Security Policy, cookies, sessions, passwords,
hashed tokens, and no secret in the repository."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from registry.models import ApiToken
from registry.services.tokens import api_token_create

ROOT = Path(__file__).resolve().parents[2]


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_every_page_sends_a_policy_that_allows_no_inline_or_foreign_script(client, product_owner):
    client.force_login(product_owner)
    for url in ("/", "/features/", "/readiness/", "/api/docs/", "/accounts/login/"):
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], url


def test_no_template_has_an_inline_script_or_event_handler():
    """The policy would block them: behaviour lives in static/js, data in json_script blocks."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{template.relative_to(ROOT)}: {match.group(0).strip()}")
    assert offenders == []


def test_production_settings_are_hardened():
    """Loaded the way a deploy loads them: debug off, a secret key from the environment."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps(["
        "s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.SESSION_COOKIE_AGE, bool(s.CONTENT_SECURITY_POLICY)]))"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "k" * 50,
        "ALLOWED_HOSTS": "gatehouse.example.com",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    debug, session_secure, csrf_secure, httponly, ssl_redirect, hsts, session_age, csp = json.loads(done.stdout)
    assert (debug, session_secure, csrf_secure, httponly, ssl_redirect) == (False, True, True, True, True)
    assert hsts >= 31536000 and session_age <= 8 * 60 * 60 and csp
    refused = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "SECRET_KEY": ""},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "SECRET_KEY is not set" in refused.stderr


@pytest.mark.parametrize("password", ["short-pass", "123456789012345", "password12345", "dana.lee-2026"])
def test_weak_passwords_are_refused(password, django_user_model):
    user = django_user_model(username="dana.lee", email="dana.lee@example.com", first_name="Dana", last_name="Lee")
    with pytest.raises(ValidationError):
        validate_password(password, user=user)


def test_api_tokens_are_stored_hashed(db, ml_engineer):
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci")
    stored = ApiToken.objects.get(name="ci")
    row = [str(value) for value in ApiToken.objects.filter(pk=stored.pk).values().get().values()]
    assert not any(raw in value or raw[4:] in value for value in row)
    assert stored.key_hash == ApiToken.hash_key(raw)


SECRET_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |OPENSSH |DSA )?PRIVATE KEY-----"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "Slack token": re.compile(r"\bxox[abpr]-[0-9A-Za-z-]{10,}"),
    "GitHub token": re.compile(r"\bgh[pousr]_[0-9A-Za-z]{36}\b"),
    "Gatehouse API token": re.compile(r"\bgh_[0-9A-Za-z_-]{40,}\b"),
    "secret assigned in code": re.compile(
        r"""(?i)\b(?:secret_key|password|api_key|token)\s*=\s*["'][^"'\s]{24,}["']"""
    ),
}
# Deliberate, documented non-secrets: the local-only key (refused without debug) and test values.
ALLOWED = ("insecure-local-key-do-not-use-in-production-", "correct-horse-battery-staple")


def test_no_secret_is_committed():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: nothing to scan")
    found = []
    for name in listed.stdout.split():
        path = ROOT / name
        if not path.is_file() or path.suffix in {".png", ".pdf", ".ico", ".woff", ".woff2"} or "static/vendor" in name:
            continue
        text = path.read_text(errors="ignore")
        for label, pattern in SECRET_PATTERNS.items():
            for match in pattern.finditer(text):
                if not any(allowed in match.group(0) for allowed in ALLOWED):
                    found.append(f"{name}: {label}: {match.group(0)[:40]}")
    assert found == []
