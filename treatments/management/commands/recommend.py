import json
import sys

from django.core.management.base import BaseCommand, no_translations

from treatments.engine import recommend
from treatments.intake_input import (
    MAX_INPUT_BYTES,
    MAX_INTAKES,
    IntakeInputError,
    decoded_input,
    echoed,
    intake_from_json,
    recommendation_json,
)
from treatments.snapshot import catalogue_snapshot

BAD_INPUT = 2


class Command(BaseCommand):
    help = (
        "Run the recommendation engine on one intake (a JSON object) or several (a JSON "
        "array) against the catalogue in the database. Prints one result per intake as JSON, "
        "or a table with --format text. Bad input exits with status 2 and one line on "
        f"standard error naming the field. At most {MAX_INPUT_BYTES:,} bytes and "
        f"{MAX_INTAKES:,} intakes a call."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True,
                            help="Path of the JSON intake file, or - for standard input.")
        parser.add_argument("--format", choices=["json", "text"], default="json")

    @no_translations  # the output is a contract: English, whatever the active language
    def handle(self, *args, **options):
        try:
            data = decoded_input(self.read(options["input"]))
        except OSError as error:
            self.fail(f"input: cannot read {echoed(options['input'])}: "
                      f"{error.strerror or error}")
        except IntakeInputError as error:
            self.fail(str(error))
        catalogue = catalogue_snapshot()
        many = isinstance(data, list)
        try:
            intakes = ([intake_from_json(item, catalogue, where=f"[{index}].")
                        for index, item in enumerate(data)]
                       if many else [intake_from_json(data, catalogue)])
        except IntakeInputError as error:
            self.fail(str(error))
        results = [recommend(intake, catalogue) for intake in intakes]
        if options["format"] == "text":
            self.stdout.write("\n\n".join(self.as_text(result) for result in results))
            return
        output = [recommendation_json(r) for r in results]
        self.stdout.write(json.dumps(output if many else output[0], indent=2, ensure_ascii=False))

    def read(self, path):
        """The input's bytes, reading no more than one byte past the limit: enough to refuse
        an input that is too large without holding all of it."""
        if path == "-":
            return sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        with open(path, "rb") as handle:
            return handle.read(MAX_INPUT_BYTES + 1)

    def fail(self, message):
        self.stderr.write(" ".join(message.splitlines()))
        sys.exit(BAD_INPUT)

    def as_text(self, recommendation):
        lines = [f"Conditions applied: {', '.join(sorted(recommendation.conditions)) or 'none'}"]
        lines += [f"Note: {note.message}" for note in recommendation.notes]
        if recommendation.no_suitable_option:
            lines.append("No suitable procedure in the catalogue: clinician consultation needed.")
        lines.append(f"{'rank':>4}  {'treatment':<26} {'score':>6}  {'status':<10} flags")
        rank = 0
        for result in recommendation.treatments:
            if not result.indicated:
                continue
            status = ("excluded" if result.excluded else "refer out" if result.referral
                      else "suitable")
            rank += 1
            flags = ", ".join(f"{f.code} ({f.severity})" for f in result.flags) or "-"
            lines.append(f"{rank:>4}  {result.code:<26} {result.score.total:>6}  "
                         f"{status:<10} {flags}")
        return "\n".join(lines)
