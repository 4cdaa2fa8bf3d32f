"""The two PostgreSQL roles: the owner, which creates and migrates the tables, and the app's
own role (DATABASE_URL), which reads and writes rows and owns nothing.

Owning nothing is the point: only a table's owner (or a superuser) can ALTER it, disable or
drop its triggers, and only a superuser can turn triggers off with session_replication_role.
The app's role may insert and read audit entries and nothing more, so a flaw in the app, or
someone holding its password, cannot rewrite the record of who did what.

With no DATABASE_OWNER_URL (SQLite, the demo) one role does both, as before.
"""

from contextlib import contextmanager

from django.conf import settings
from django.utils.translation import gettext as _

AUDIT_TABLE = "clinic_auditevent"
OWNER_FIELDS = ("USER", "PASSWORD", "HOST", "PORT")


def owner_settings():
    """How to connect as the owner (the settings' DATABASE_OWNER), or None when the app's
    role is the owner too."""
    return getattr(settings, "DATABASE_OWNER", None)


def runs_as_owner(connection):
    owner = owner_settings()
    return owner is None or owner["USER"] == connection.settings_dict["USER"]


@contextmanager
def connected_as_owner(connection):
    """Run the block on `connection` as the owner (for migrations and grants), then
    reconnect as the app's role."""
    if runs_as_owner(connection):
        yield
        return
    owner = owner_settings()
    app_role = {field: connection.settings_dict.get(field) for field in OWNER_FIELDS}
    connection.close()
    connection.settings_dict.update({field: owner.get(field) for field in OWNER_FIELDS})
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(app_role)


def runtime_role_create(cursor, *, role, password):
    """Create the app's role, or bring an existing one back to a plain login role: no
    superuser, no creating databases or roles (a role that may create roles could make
    itself a member of the owner)."""
    quoted = cursor.db.ops.quote_name(role)
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    verb = "ALTER" if cursor.fetchone() else "CREATE"
    password_clause = " PASSWORD %s" if password else ""
    cursor.execute(f"{verb} ROLE {quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                   f"NOBYPASSRLS NOREPLICATION{password_clause}", [password] if password else None)


def runtime_role_grant(cursor, *, role):
    """What the app's role may do, run by the owner in the app's database (again after each
    migration; the default privileges cover tables the owner creates later)."""
    quoted = cursor.db.ops.quote_name(role)
    cursor.execute("SELECT current_schema()")
    schema = cursor.db.ops.quote_name(cursor.fetchone()[0])
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [AUDIT_TABLE])
    audit_table_exists = cursor.fetchone()[0]
    for statement in (
        f"GRANT USAGE ON SCHEMA {schema} TO {quoted}",
        f"REVOKE CREATE ON SCHEMA {schema} FROM {quoted}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {quoted}",
        # The audit trail: insert and read, never change, delete or empty (nor TRUNCATE,
        # REFERENCES or TRIGGER, on any table: those are not granted above). Before the
        # first migration it does not exist yet: `migrate` runs this again after it.
        *([f"REVOKE UPDATE, DELETE ON {AUDIT_TABLE} FROM {quoted}"] if audit_table_exists
          else []),
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {quoted}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {quoted}",
    ):
        cursor.execute(statement)


def runtime_role_problems(cursor, *, role):
    """Why `role` could still tamper with the audit trail: each reason as a sentence, none
    when it is the plain role it should be. Run as the owner in the app's database."""
    cursor.execute("SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles "
                   "WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is None:
        return [_("The role %(role)s does not exist.") % {"role": role}]
    superuser, createrole, bypassrls = found
    problems = []
    cursor.execute("SELECT current_user")
    if cursor.fetchone()[0] == role:
        problems.append(_("%(role)s is the owner itself.") % {"role": role})
    if superuser:
        problems.append(_("%(role)s is a superuser.") % {"role": role})
    if createrole:
        problems.append(_("%(role)s may create roles (and so join the owner's).") % {
            "role": role})
    if bypassrls:
        problems.append(_("%(role)s bypasses row-level security.") % {"role": role})
    cursor.execute("SELECT pg_has_role(%s, current_user, 'MEMBER')", [role])
    if cursor.fetchone()[0] and not superuser:
        problems.append(_("%(role)s is a member of the owner's role.") % {"role": role})
    cursor.execute("SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner "
                   "WHERE r.rolname = %s AND c.relnamespace = current_schema()::regnamespace",
                   [role])
    owned = cursor.fetchone()[0]
    if owned:
        problems.append(_("%(role)s owns %(count)s tables or sequences.") % {
            "role": role, "count": owned})
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL AND has_table_privilege(%s, %s, "
                   "'UPDATE, DELETE, TRUNCATE, TRIGGER')", [AUDIT_TABLE, role, AUDIT_TABLE])
    if cursor.fetchone()[0]:
        problems.append(_("%(role)s may change, delete or empty the audit trail.") % {
            "role": role})
    return problems
