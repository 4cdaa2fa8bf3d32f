from unittest import mock

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings

from clinic.database_roles import OWNER_FIELDS, owner_settings
from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from tests.factories import ClinicFactory, UserFactory
from treatments.loading import catalogue_load


def pytest_collection_modifyitems(items):
    """Browser tests last: their live server empties the database when each one ends."""
    items.sort(key=lambda item: "/e2e/" in str(item.path))


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """Pages render with the production static storage (hashed names), so the static files
    are collected once for the whole run."""
    root = tmp_path_factory.mktemp("staticfiles")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield root


@pytest.fixture(scope="session", autouse=True)
def plain_http_test_server():
    """The test servers speak plain HTTP and sign staff in without a TOTP code (session-wide,
    so the browser tests' live server starts that way too); the tests of those protections
    turn them back on with the `settings` fixture."""
    with override_settings(SECURE_SSL_REDIRECT=False, REQUIRE_TWO_FACTOR=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Every test account's password is hashed with a fast hasher: the tests are about who
    may sign in and what they see, not the hash's cost (production keeps Django's default,
    which `check --deploy` runs with in tests/security)."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with no rendered page kept from another test (their database rows,
    ids included, are rolled back and may come again)."""
    cache.clear()


# The app's own database role as DATABASE_URL names it, before the tests switch to the owner.
APP_ROLE = {field: settings.DATABASES["default"].get(field) for field in OWNER_FIELDS}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """With DATABASE_OWNER_URL set, the tests create their database and run as its owner (the
    app's role may not create databases, nor empty the audit trail between tests); the tests
    of the app's role connect as that role themselves (tests/security/test_database_roles)."""
    owner = owner_settings()
    if owner is not None:
        settings.DATABASES["default"].update({field: owner.get(field) for field in OWNER_FIELDS})


@pytest.fixture(scope="session", autouse=True)
def audit_trail_guard_lifted_to_empty_the_test_database():
    """Tests that commit (the browser's live server) end by emptying every table with one
    TRUNCATE, which the audit trail refuses on PostgreSQL; the test database's owner lifts
    that guard for the emptying statement only, in its transaction."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    from clinic.models import AuditEvent

    table = AuditEvent._meta.db_table
    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, **options):
        statements = original(self, style, tables, **options)
        if table not in tables or not statements:
            return statements
        return [f"ALTER TABLE {table} DISABLE TRIGGER clinic_auditevent_no_truncate",
                *statements,
                f"ALTER TABLE {table} ENABLE TRIGGER clinic_auditevent_no_truncate"]

    with mock.patch.object(DatabaseOperations, "sql_flush", sql_flush):
        yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test starts from a database holding the shipped catalogue."""
    with django_db_blocker.unblock():
        catalogue_load()


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Harbourside Skin Clinic")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Northgate Aesthetics")


@pytest.fixture
def clinician(clinic):
    return UserFactory(clinic=clinic, role=CLINICIAN, first_name="Mei", last_name="Lin")


@pytest.fixture
def catalogue_admin(clinic):
    return UserFactory(clinic=clinic, role=CATALOGUE_ADMIN, first_name="Sam",
                       last_name="Okafor")


@pytest.fixture
def staff_without_role(clinic):
    return UserFactory(clinic=clinic, role=None)


@pytest.fixture
def superuser(db):
    return UserFactory(clinic=None, role=None, is_superuser=True, is_staff=True)


@pytest.fixture
def client_as(client):
    """A test client signed in as the given user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(autouse=True)
def task_queue_runs_inline(monkeypatch):
    """Queued tasks run at once in the test's own process (django-q2's sync mode), so an
    email queued after commit is sent as soon as the commit's callbacks run."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
