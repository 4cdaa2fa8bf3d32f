"""The app's own PostgreSQL role may insert and read audit entries and do nothing else to
them: not change, delete or empty them, nor lift the triggers that refuse it (it owns no
table), nor turn triggers off for its session (that needs a superuser)."""

import psycopg
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from clinic.audit import audit
from clinic.database_roles import (
    owner_settings,
    runtime_role_create,
    runtime_role_grant,
    runtime_role_problems,
)
from clinic.models import AuditEvent
from tests.conftest import APP_ROLE

TABLE = "clinic_auditevent"
# The role these tests make when no DATABASE_OWNER_URL names the app's role (a role is the
# whole server's: the name says whose it is).
TEST_ROLE, TEST_PASSWORD = "clinic_app_test", "clinic-app-test-only"

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="database roles are PostgreSQL's (CI runs them there)"),
    # For the test database; the tests' own transaction touches no audit entry, so nothing
    # it holds makes the app's role wait.
    pytest.mark.django_db,
]


@pytest.fixture(scope="session")
def app_role(django_db_setup, django_db_blocker):
    """Connection parameters for the app's own role in the test database, with the
    privileges `migrate` gives it."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        if owner_settings() is not None:
            role, password = APP_ROLE["USER"], APP_ROLE["PASSWORD"]
        else:
            role, password = TEST_ROLE, TEST_PASSWORD
            runtime_role_create(cursor, role=role, password=password)
        runtime_role_grant(cursor, role=role)
        assert runtime_role_problems(cursor, role=role) == []
    settings = connection.settings_dict
    return {"host": settings["HOST"] or "127.0.0.1", "port": settings["PORT"] or 5432,
            "dbname": settings["NAME"], "user": role, "password": password or None}


@pytest.fixture
def as_app_role(app_role):
    """A connection as the app's role, in one transaction rolled back at the end (each
    refused statement in a savepoint of its own)."""
    with psycopg.connect(**app_role) as app:
        try:
            yield app
        finally:
            app.rollback()


INSERT = (f"INSERT INTO {TABLE} (at, actor_label, action, object_type, object_id, outcome, "
          "request_id, client_request_id, previous_hash, entry_hash) VALUES (now(), 'system', "
          "'view', 'patient', '1', 'allowed', '', '', '', %s) RETURNING id")

REFUSED = {
    "UPDATE": f"UPDATE {TABLE} SET action = 'edited'",
    "DELETE": f"DELETE FROM {TABLE}",
    "TRUNCATE": f"TRUNCATE {TABLE}",
    "DISABLE TRIGGER": f"ALTER TABLE {TABLE} DISABLE TRIGGER clinic_auditevent_append_only",
    "DISABLE TRIGGER ALL": f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
    "DROP TRIGGER": f"DROP TRIGGER clinic_auditevent_append_only ON {TABLE}",
    "DROP TABLE": f"DROP TABLE {TABLE}",
    "session_replication_role": "SET session_replication_role = replica",
}


def test_the_app_role_may_insert_and_read_entries(as_app_role):
    inserted = as_app_role.execute(INSERT, ["f" * 64]).fetchone()[0]

    assert as_app_role.execute(f"SELECT entry_hash FROM {TABLE} WHERE id = %s",
                               [inserted]).fetchone() == ("f" * 64,)


@pytest.mark.parametrize("statement", REFUSED.values(), ids=REFUSED.keys())
def test_the_app_role_cannot_change_empty_or_unguard_the_trail(as_app_role, statement):
    inserted = as_app_role.execute(INSERT, ["e" * 64]).fetchone()[0]

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        with as_app_role.transaction():
            as_app_role.execute(statement)

    assert as_app_role.execute(f"SELECT action FROM {TABLE} WHERE id = %s",
                               [inserted]).fetchone() == ("view",)


def test_the_app_role_cannot_grant_itself_more(as_app_role):
    as_app_role.execute(f"GRANT UPDATE, DELETE, TRUNCATE ON {TABLE} TO CURRENT_USER")

    assert as_app_role.execute(f"SELECT has_table_privilege('{TABLE}', 'UPDATE, DELETE, "
                               "TRUNCATE, TRIGGER')").fetchone() == (False,)


def test_the_app_role_reads_and_writes_every_other_table(as_app_role):
    clinic = as_app_role.execute("INSERT INTO clinic_clinic (name, address, phone, email, "
                                 "locale) VALUES ('Role Test Clinic', '', '', '', 'en-gb') "
                                 "RETURNING id").fetchone()[0]
    as_app_role.execute("UPDATE clinic_clinic SET phone = '1' WHERE id = %s", [clinic])
    as_app_role.execute("DELETE FROM clinic_clinic WHERE id = %s", [clinic])

    assert as_app_role.execute("SELECT count(*) FROM clinic_clinic WHERE id = %s",
                               [clinic]).fetchone() == (0,)


def test_the_app_role_is_not_superuser_and_owns_nothing(as_app_role):
    assert as_app_role.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                               "WHERE rolname = current_user").fetchone() == (False, False,
                                                                              False)
    assert as_app_role.execute("SELECT count(*) FROM pg_class WHERE relowner = "
                               "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
                               ).fetchone() == (0,)


def test_the_owner_as_the_apps_role_is_refused():
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        owner = cursor.fetchone()[0]

        problems = runtime_role_problems(cursor, role=owner)

    assert f"{owner} is the owner itself." in problems
    assert any("may change, delete or empty the audit trail" in p for p in problems)


def test_the_owner_cannot_empty_the_trail_either():
    """The TRUNCATE guard: the owner's mistakes too (a flush, a script) stop at the trigger."""
    with pytest.raises(DatabaseError, match="append-only: TRUNCATE refused"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")


def test_the_test_database_is_still_emptied_between_browser_tests():
    """The browser tests' live server ends each test by emptying every table (one TRUNCATE):
    the test suite lifts the audit trail's guard for that statement only (tests/conftest.py),
    and the guard is back in place after it. Rolled back with the test's transaction."""
    audit("view", object_type="patient", object_id="1")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks left pending

    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)

    assert AuditEvent.objects.count() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgenabled FROM pg_trigger "
                       "WHERE tgname = 'clinic_auditevent_no_truncate'")
        assert cursor.fetchone() == ("O",)  # enabled
