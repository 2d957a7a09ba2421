"""Test fixtures. Tenant schemas are created once per session (not per test):
the public schema is migrated by pytest-django, then the template schema and the
demo organisations (acme, globex) are provisioned through the real services and
committed. Each test then runs in a transaction that is rolled back (``db``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, time

import pytest
import pytest_django.fixtures as pytest_django_fixtures
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone, translation
from django_tenants.utils import tenant_context

from accounts.models import User
from tenants.demo import DEMO_PASSWORD, seed_demo
from tenants.models import Domain, Organization
from tenants.services import template_ensure
from tests.workers import committed  # noqa: F401 (a fixture for the tests with a real worker)

_databases_for_setup = pytest_django_fixtures._get_databases_for_setup


def _always_with_the_default_database(items):
    """pytest-django sets up the test database only when a collected test asks for ``db``.
    Worker and browser tests reach it from other processes without asking, so run alone
    they would have used the development database: this suite always sets it up (pinned
    pytest-django 4.14; the guard in django_db_setup below catches a change)."""
    aliases, serialized = _databases_for_setup(items)
    return aliases | {"default"}, serialized


pytest_django_fixtures._get_databases_for_setup = _always_with_the_default_database


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, django_db_blocker):
    """Drop test databases left behind by runs that no longer exist (a run killed midway,
    or one whose teardown found a connection still open), so they don't pile up."""
    with django_db_blocker.unblock(), connection._nodb_cursor() as cursor:
        # test_okr_<pid>, and the scratch databases a run makes next to it (test_okr_<pid>_restore).
        cursor.execute("SELECT datname FROM pg_database WHERE datname ~ '^test_okr_[0-9]+(_[a-z]+)?$'")
        stale = [name for (name,) in cursor.fetchall() if not _pid_alive(int(name.split("_")[2]))]
        for name in stale:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    # pytest-django creates the test database only when a collected test asks for ``db``;
    # never seed (or let a worker use) the development database instead.
    if not connection.settings_dict["NAME"].startswith("test_okr"):
        pytest.fail("No test database was set up: select at least one test that uses `db`.")
    with django_db_blocker.unblock():
        public, _ = Organization.objects.get_or_create(
            schema_name="public", defaults={"name": "Platform", "slug": "_public"}
        )
        Domain.objects.get_or_create(domain="localhost", defaults={"tenant": public})
        template_ensure()
        # acme and globex; tests that need more make it. Reminders go out from 09:00 local
        # time only, so the demo's inbox would depend on the hour the suite runs; noon UTC
        # is working hours on the same date in Berlin (acme) and Shanghai (globex).
        seed_demo(portfolio=False, now=datetime.combine(timezone.now().date(), time(12), tzinfo=UTC))
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _default_language_at_start():
    # A request to a Chinese-speaking organisation leaves its language active in this
    # thread; each test starts in the platform's default language.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _public_schema_at_start():
    # The connection can keep a tenant's search_path between tests; start in public.
    connection.set_schema_to_public()
    yield
    connection.set_schema_to_public()


@pytest.fixture
def demo_password() -> str:
    return DEMO_PASSWORD


@pytest.fixture
def acme(db) -> Organization:
    return Organization.objects.get(slug="acme")


@pytest.fixture
def globex(db) -> Organization:
    return Organization.objects.get(slug="globex")


def host_of(organization: Organization) -> str:
    return f"{organization.slug}.localhost"


@pytest.fixture
def acme_client(acme) -> Client:
    return Client(HTTP_HOST=host_of(acme))


@pytest.fixture
def globex_client(globex) -> Client:
    return Client(HTTP_HOST=host_of(globex))


@pytest.fixture
def public_client(db) -> Client:
    return Client(HTTP_HOST="localhost")


@pytest.fixture
def acme_member(acme) -> User:
    with tenant_context(acme):
        return User.objects.get(email="analyst@acme.example")
