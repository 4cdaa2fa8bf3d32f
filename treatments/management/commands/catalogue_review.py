import sys

from django.core.management.base import BaseCommand

from treatments.coverage import catalogue_review

GAPS_FOUND = 1


class Command(BaseCommand):
    help = (
        "List candidate gaps in the catalogue's evidence coverage, most dangerous first: a "
        "condition ruled on some treatments of a category or mechanism but neither ruled nor "
        "decided on others; a cited source whose subject covers treatments without a rule or "
        "decision; a medicine or procedure step that says nothing of who must not receive "
        "it; a relative rule that a source calls a contraindication, with no recorded "
        "disagreement. Exits with status 1 when any gap exists."
    )

    def handle(self, *args, **options):
        gaps, counts = catalogue_review()
        self.stdout.write(
            f"Coverage: {counts.pairs} condition-treatment pairs: {counts.rules} with a rule, "
            f"{counts.decided} reviewed as needing no rule, {counts.unreviewed} not reviewed.")
        if not gaps:
            self.stdout.write("No candidate gaps.")
            return
        self.stdout.write(f"{len(gaps)} candidate gap{'s' if len(gaps) != 1 else ''}, most "
                          "dangerous first:")
        for gap in gaps:
            self.stdout.write(f"  [{gap.kind_label}] {gap.message}")
        sys.exit(GAPS_FOUND)
