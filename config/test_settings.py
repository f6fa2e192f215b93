"""The test run's environment defaults, then the one settings file, then the one test-only setting.

pytest-django imports settings before any conftest runs, so the defaults are set here instead.
"""

import os

for name, value in {
    "GATEHOUSE_ALLOW_INSECURE_KEY": "1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "GATEHOUSE_MANIFEST_STATIC": "0",
    "DJANGO_ALLOW_ASYNC_UNSAFE": "true",
    "CELERY_BROKER_URL": "memory://",
    # Server threads of live_server must not keep connections past a request: the test database
    # could not be dropped at the end.
    "DB_CONN_MAX_AGE": "0",
}.items():
    os.environ.setdefault(name, value)

from config.settings import *  # noqa: E402,F401,F403

# Personas are created in almost every test; PBKDF2 would make the suite several times slower.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
