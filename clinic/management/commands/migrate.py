"""Django's migrate, run as the tables' owner when DATABASE_OWNER_URL is set, which then gives
the app's own role (DATABASE_URL) its privileges on what the migrations created."""

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from clinic.database_roles import (
    connected_as_owner,
    runs_as_owner,
    runtime_role_grant,
    runtime_role_problems,
)


class Command(migrate.Command):
    help = migrate.Command.help + (
        " With DATABASE_OWNER_URL set, migrations run as that owner and the app's role "
        "(DATABASE_URL) is granted what it may do (see clinic.database_roles)."
    )

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if runs_as_owner(connection):
            return super().handle(*args, **options)
        role = connection.settings_dict["USER"]
        with connected_as_owner(connection):
            super().handle(*args, **options)
            with connection.cursor() as cursor:
                runtime_role_grant(cursor, role=role)
                problems = runtime_role_problems(cursor, role=role)
        if problems:
            raise CommandError(" ".join(problems))
