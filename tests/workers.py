"""What each test process has of its own when the suite runs in parallel (pytest-xdist, ``-n``).

pytest-django gives each worker its own test database (``test_gatehouse_gw0``, ``test_gatehouse_gw1``...);
live servers take a port the system picks and temporary folders come from ``tmp_path``. The one shared
service left is Redis: each worker gets a Redis database of its own, emptied by the tests that use it.
"""

import os
from urllib.parse import urlsplit

FIRST_TEST_REDIS_DB = 7  # when $REDIS_URL names no database, or database 0 (the application's usual one)
REDIS_DATABASES = 16  # Redis's default number of databases


def worker_index() -> int:
    """0 in a serial run or on the first worker (``gw0``), 1 on ``gw1``, and so on."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def redis_test_url() -> str:
    """``$REDIS_URL`` (``.ci/run`` exports it; default ``redis://127.0.0.1:6379``) with the database number
    replaced by this process's own: the URL's database (7 if it names none, or 0) plus the worker's index.
    The tests that use it flush it before and after."""
    parts = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379")
    named = parts.path.strip("/")
    first = int(named) if named.isdigit() and int(named) > 0 else FIRST_TEST_REDIS_DB
    number = first + worker_index()
    if number >= REDIS_DATABASES:
        raise RuntimeError(
            f"Redis database {number} for test worker {worker_index()}: past the {REDIS_DATABASES} Redis has; "
            "run fewer workers (-n) or a lower database in REDIS_URL"
        )
    return parts._replace(path=f"/{number}").geturl()
