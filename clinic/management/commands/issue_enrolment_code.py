from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from clinic.services import authenticator_reset, enrolment_code_issue


class Command(BaseCommand):
    help = ("Print a one-time code with which a staff member links their first authenticator "
            "app (for the first superuser, who has nobody to ask). With --reset, their "
            "authenticator and backup codes are removed first.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reset", action="store_true",
                            help="Remove the account's authenticator and backup codes first.")

    def handle(self, *args, username, reset, **options):
        account = get_user_model().objects.filter(username=username).first()
        if account is None:
            raise CommandError(f"No account is called {username!r}.")
        issue = authenticator_reset if reset else enrolment_code_issue
        enrolment, code = issue(user=None, account=account)
        self.stdout.write(f"Enrolment code for {account.get_username()}: {code}\n"
                          f"It works once, until {enrolment.expires_at:%Y-%m-%d %H:%M %Z}. "
                          "Sign in with the password, then enter it.")
