from django.core.management.base import BaseCommand

from consultations.plan_services import plans_recheck


class Command(BaseCommand):
    help = (
        "Check every live plan (draft, shared or accepted) against the current intake, "
        "catalogue and day, and mark those whose planned procedures now carry a flag nobody "
        "has reviewed. Run it daily, so that plans follow the passing days too (undated "
        "sessions are checked on the day). Catalogue and intake changes re-check plans by "
        "themselves."
    )

    def handle(self, *args, **options):
        count = plans_recheck()
        self.stdout.write(f"{count} plan(s) need review.")
