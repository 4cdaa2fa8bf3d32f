from django.core.management.base import BaseCommand, CommandError

from treatments.loading import (
    CATALOGUE_FILE,
    CatalogueFileError,
    catalogue_file_read,
    catalogue_load,
    consent_file_read,
    translation_files_read,
)


class Command(BaseCommand):
    help = (
        "Load the shipped treatments catalogue (treatments, concerns, conditions, rules, "
        "requirements, aftercare, sources, consent texts). Safe to run again: unchanged records are left "
        "alone and records edited by an admin are skipped unless --reset is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(CATALOGUE_FILE),
                            help="Catalogue data file (default: the shipped one).")
        parser.add_argument("--reset", action="store_true",
                            help="Also overwrite records an admin has edited with the file's values.")

    def handle(self, *args, **options):
        try:
            report = catalogue_load(data=catalogue_file_read(options["file"]),
                                    translations=translation_files_read(),
                                    consents=consent_file_read(),
                                    reset=options["reset"])
        except (OSError, CatalogueFileError) as error:
            raise CommandError(f"Catalogue not loaded: {error}") from error
        for line in report.lines():
            self.stdout.write(line)
        totals = (sum(report.created.values()), sum(report.updated.values()),
                  sum(report.unchanged.values()), sum(report.skipped.values()))
        self.stdout.write(self.style.SUCCESS(
            "Catalogue loaded: %d created, %d updated, %d unchanged, %d skipped." % totals
        ))
