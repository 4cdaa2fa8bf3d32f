"""How long the recommendation engine takes: on the shipped catalogue, and on generated
catalogues of 1,000, 2,500 and 5,000 treatments (copies of the shipped ones under new codes).

Run with `make bench-engine` (or `python -m tests.benchmarks.engine_benchmark`). It uses a
throw-away in-memory database, so it never touches your data. Targets: at most 5 ms per
intake on the shipped catalogue and 250 ms on 5,000 treatments, growing linearly.
"""

import os
import statistics
import sys
import time
from dataclasses import replace

INTAKES = None


def setup_django():
    os.environ["DATABASE_URL"] = "sqlite://:memory:"
    os.environ.setdefault("DJANGO_SECRET_KEY", "benchmark-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_catalogue", verbosity=0, stdout=open(os.devnull, "w"))


def intakes():
    from treatments.engine import Intake

    return [
        Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),),
               conditions=frozenset({"pregnancy"})),
        Intake(fitzpatrick="V", concerns=(("melasma", "mild"), ("pih", "moderate")),
               conditions=frozenset({"herpes_simplex_history", "isotretinoin_6m"}),
               treatment_area="full_face"),
        Intake(fitzpatrick="unknown", concerns=(("wrinkles_dynamic", "severe"),
                                                ("skin_laxity", "moderate"),
                                                ("fine_lines", "mild")),
               conditions=frozenset({"diabetes_controlled", "diabetes_uncontrolled",
                                     "anticoagulants"}), pregnancy_answer="unsure"),
    ]


def grown(snapshot, size):
    originals = snapshot.treatments
    copies = [replace(t, code=f"{t.code}_{n}") for n in range(size // len(originals) + 1)
              for t in originals]
    return replace(snapshot, treatments=tuple(copies[:size]))


def time_engine(snapshot, cases, repeats):
    from treatments.engine import recommend

    timings = []
    for _ in range(repeats):
        for intake in cases:
            start = time.perf_counter()
            recommend(intake, snapshot)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main():
    setup_django()
    from treatments.snapshot import catalogue_snapshot

    shipped = catalogue_snapshot()
    cases = intakes()
    rows = [("shipped", len(shipped.treatments), *time_engine(shipped, cases, 200))]
    for size in (1000, 2500, 5000):
        snapshot = grown(shipped, size)
        rows.append(("generated", size, *time_engine(snapshot, cases, 5)))
    print(f"{'catalogue':<10} {'treatments':>10} {'median ms':>10} {'p95 ms':>8} "
          f"{'ms per 1,000':>13}")
    for name, size, median, p95 in rows:
        print(f"{name:<10} {size:>10} {median:>10.2f} {p95:>8.2f} "
              f"{median / size * 1000:>13.2f}")
    shipped_ok = rows[0][2] <= 5
    large_ok = rows[-1][2] <= 250
    print(f"targets: shipped <= 5 ms {'met' if shipped_ok else 'MISSED'}; "
          f"5,000 treatments <= 250 ms {'met' if large_ok else 'MISSED'}")
    return 0 if shipped_ok and large_ok else 1


if __name__ == "__main__":
    sys.exit(main())
