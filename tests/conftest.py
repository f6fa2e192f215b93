"""Personas and shared fixtures. A persona is a user with the roles and teams of a real colleague."""

import os

import pytest
from django.db import connection

from tests.factories import PASSWORD, RegionFactory, TeamFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need row locks and real concurrency; SQLite cannot give them."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    if os.environ.get("GATEHOUSE_REQUIRE_SERVICES"):
        raise pytest.UsageError("GATEHOUSE_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...; .ci/run does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def forget_caches():
    """Empty the shared cache and the per-process routing caches."""
    from django.core.cache import cache as shared

    from config.cache import forget as forget_unreachable_servers
    from registry.views.auth import local_counts
    from routing import cache

    cache.decisions.clear()
    cache.identities.clear()
    cache.mirror.clear()
    cache._outage_seen = False
    local_counts.clear()  # sign-in failures counted in memory while a test's cache was down
    forget_unreachable_servers()
    shared.clear()


@pytest.fixture(autouse=True)
def empty_caches():
    """Each test starts cold: a test's rolled-back data must not answer for the next one through a cached
    decision or readiness entry (in real life the database only moves forward, through writes that
    invalidate them)."""
    forget_caches()
    yield
    forget_caches()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def eu(db):
    return RegionFactory(code="eu", name="European Union")


@pytest.fixture
def us(db):
    return RegionFactory(code="us", name="United States")


@pytest.fixture
def team(db):
    return TeamFactory(slug="claims", name="Claims")


@pytest.fixture
def other_team(db):
    return TeamFactory(slug="payments", name="Payments")


@pytest.fixture
def product_owner(team):
    return UserFactory(username="pat-product", roles=["product"], teams=[team])


@pytest.fixture
def ml_engineer(team):
    return UserFactory(username="mel-ml", roles=["ml"], teams=[team])


@pytest.fixture
def other_product_owner(other_team):
    return UserFactory(username="otto-product", roles=["product"], teams=[other_team])


@pytest.fixture
def security_reviewer(db):
    return UserFactory(username="sam-security", roles=["security"])


@pytest.fixture
def legal_reviewer(db):
    return UserFactory(username="lee-legal", roles=["legal"])


@pytest.fixture
def support_agent(db):
    return UserFactory(username="sue-support", roles=["support"])


@pytest.fixture
def governance_admin(db):
    return UserFactory(username="gia-governance", roles=["governance"])


@pytest.fixture
def auditor(db):
    return UserFactory(username="aude-auditor", roles=["auditor"])


@pytest.fixture
def outsider(db):
    return UserFactory(username="olly-outsider")


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def tamper(db):
    """Lets a test alter the audit trail as an attacker with database superuser rights could, to prove it is
    detected: on PostgreSQL the append-only triggers are off for this session only (``session_replication_role``
    is a superuser setting; the test role is one, the application's role in production is not)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    yield
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
