from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _

from clinic.database_roles import (
    connected_as_owner,
    owner_settings,
    runtime_role_create,
    runtime_role_grant,
    runtime_role_problems,
)


class Command(BaseCommand):
    help = (
        "Give the app's own PostgreSQL role (DATABASE_URL) what it may do: read and write "
        "rows, insert and read audit entries, nothing more; run it as the owner "
        "(DATABASE_OWNER_URL). `migrate` does it too after each migration. With "
        "--create-role, first create the app's role (or reset an existing one to a plain "
        "login role) with DATABASE_URL's password; the owner needs CREATEROLE for that."
    )

    def add_arguments(self, parser):
        parser.add_argument("--create-role", action="store_true",
                            help="create the app's role first (or reset its attributes)")
        parser.add_argument("--database", default="default")

    def handle(self, *args, create_role=False, database="default", **options):
        connection = connections[database]
        if connection.vendor != "postgresql":
            self.stdout.write(_("Nothing to do: database roles are PostgreSQL's."))
            return
        if owner_settings() is None:
            raise CommandError(_("DATABASE_OWNER_URL is not set: the app's role is the "
                                 "owner. Set it to the owner's address and DATABASE_URL to "
                                 "the app's own role."))
        role = connection.settings_dict["USER"]
        password = connection.settings_dict.get("PASSWORD") or ""
        name = connection.settings_dict["NAME"]
        with connected_as_owner(connection):
            if create_role:
                with connection._nodb_cursor() as cursor:
                    runtime_role_create(cursor, role=role, password=password)
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                    database_exists = cursor.fetchone() is not None
                self.stdout.write(_("Role %(role)s is ready.") % {"role": role})
                if not database_exists:
                    self.stdout.write(_("The database %(name)s does not exist yet: `migrate` "
                                        "grants the role its privileges once it has created "
                                        "the tables.") % {"name": name})
                    return
            with connection.cursor() as cursor:
                runtime_role_grant(cursor, role=role)
                problems = runtime_role_problems(cursor, role=role)
        if problems:
            raise CommandError(" ".join(problems))
        self.stdout.write(_("Role %(role)s may read and write rows, and only insert and read "
                            "audit entries.") % {"role": role})
