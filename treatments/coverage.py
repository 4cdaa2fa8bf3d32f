"""Reads of the catalogue's evidence coverage for catalogue admins: the coverage grid (every
active condition against every active treatment) and the review's candidate gaps. Both read
the engine's own snapshot, so they show exactly what the engine applies."""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from treatments.engine import DECIDED, DECIDED_FOR_CATEGORY, UNREVIEWED, coverage_state
from treatments.models import (
    Condition,
    ContraindicationRule,
    CoverageDecision,
    EvidenceSource,
    TreatmentCategory,
)
from treatments.review import catalogue_gaps, coverage_counts
from treatments.snapshot import catalogue_snapshot

STATES = ("absolute", "relative", "informational", DECIDED, DECIDED_FOR_CATEGORY, UNREVIEWED)
STATE_LABELS = {
    "absolute": "absolute",
    "relative": "relative",
    "informational": "informational",
    DECIDED: "reviewed: no rule needed",
    DECIDED_FOR_CATEGORY: "reviewed for the category: no rule needed",
    UNREVIEWED: "not reviewed",
}
STATE_MARKS = {"absolute": "A", "relative": "R", "informational": "i", DECIDED: "✓",
               DECIDED_FOR_CATEGORY: "✓", UNREVIEWED: "?"}


def _may_review(user):
    """The coverage grid and the review are the catalogue admins' tools."""
    if not (user.is_active and user.is_staff
            and user.has_perm("treatments.change_coveragedecision")):
        raise PermissionDenied


@dataclass(frozen=True)
class Cell:
    treatment: str
    state: str
    rule: int | None = None  # the rule's id, for a rule
    decision: int | None = None  # the decision's id, for a reviewed decision
    group_start: bool = False  # the first treatment of its category
    window: tuple | None = None  # the rule's own (length, unit), where it has one
    window_sources: tuple = ()  # the source keys that give it

    @property
    def mark(self):
        return STATE_MARKS[self.state]

    @property
    def window_text(self):
        """'own window 2 weeks (S_A, S_B)', or '' for a cell with the condition's window."""
        if self.window is None:
            return ""
        length, unit = self.window
        return f"own window {length} {unit} ({', '.join(self.window_sources)})"

    @property
    def label(self):
        label = STATE_LABELS[self.state]
        return f"{label}, {self.window_text}" if self.window else label


@dataclass(frozen=True)
class GridRow:
    condition: str
    label: str
    category: str
    cells: tuple
    counts: dict


@dataclass(frozen=True)
class CoverageGrid:
    columns: tuple  # ((category code, category label, (treatment facts, ...)), ...)
    rows: tuple
    treatment_counts: dict  # treatment code -> {state: n}
    totals: dict  # state -> n


def coverage_grid(*, user, condition_category="", treatment_category="", state=""):
    """Every active condition against every active treatment (grouped by category), each
    cell a rule's severity, a reviewed decision, or not reviewed, with the record it rests
    on. Filters narrow the rows (an intake section, a state) and the columns (a category)."""
    _may_review(user)
    catalogue = catalogue_snapshot()
    labels = dict(TreatmentCategory.objects.values_list("code", "label"))
    conditions = list(Condition.objects.filter(active=True).order_by("category", "position",
                                                                     "code"))
    rule_ids = {(t, c): pk for pk, t, c in ContraindicationRule.objects.values_list(
        "pk", "treatment__code", "condition__code")}
    treatment_decisions = {(t, c): pk for pk, t, c in CoverageDecision.objects.filter(
        treatment__isnull=False).values_list("pk", "treatment__code", "condition__code")}
    category_decisions = {(k, c): pk for pk, k, c in CoverageDecision.objects.filter(
        category__isnull=False).values_list("pk", "category__code", "condition__code")}
    treatments = sorted((t for t in catalogue.treatments
                         if not treatment_category or t.category == treatment_category),
                        key=lambda t: (t.category, t.code))
    columns = []
    for treatment in treatments:
        if not columns or columns[-1][0] != treatment.category:
            columns.append((treatment.category, labels.get(treatment.category,
                                                           treatment.category), []))
        columns[-1][2].append(treatment)
    treatment_counts = {t.code: dict.fromkeys(STATES, 0) for t in treatments}
    totals = dict.fromkeys(STATES, 0)
    rows = []
    for condition in conditions:
        if condition_category and condition.category != condition_category:
            continue
        cells = []
        for index, treatment in enumerate(treatments):
            cell_state = coverage_state(treatment, condition.code, catalogue)
            rule = treatment.rules.get(condition.code)
            cells.append(Cell(
                treatment.code, cell_state,
                group_start=index == 0 or treatments[index - 1].category != treatment.category,
                rule=rule_ids.get((treatment.code, condition.code)),
                decision=(treatment_decisions.get((treatment.code, condition.code))
                          if cell_state == DECIDED else
                          category_decisions.get((treatment.category, condition.code))
                          if cell_state == DECIDED_FOR_CATEGORY else None),
                window=rule.window if rule else None,
                window_sources=rule.window_sources if rule else (),
            ))
        counts = dict.fromkeys(STATES, 0)
        for cell in cells:
            counts[cell.state] += 1
        if state and not counts.get(state):
            continue
        for cell in cells:
            treatment_counts[cell.treatment][cell.state] += 1
            totals[cell.state] += 1
        rows.append(GridRow(condition.code, condition.label, condition.get_category_display(),
                            tuple(cells), counts))
    return CoverageGrid(columns=tuple((code, label, tuple(members))
                                      for code, label, members in columns),
                        rows=tuple(rows), treatment_counts=treatment_counts, totals=totals)


def coverage_grid_csv(grid):
    """The grid as CSV: one row per condition, one column per treatment, cells in words."""
    out = io.StringIO()
    writer = csv.writer(out)
    treatments = [t for _code, _label, members in grid.columns for t in members]
    writer.writerow(["condition", "label"] + [t.code for t in treatments]
                    + [f"count: {STATE_LABELS[s]}" for s in STATES])
    for row in grid.rows:
        writer.writerow([row.condition, row.label] + [cell.label for cell in row.cells]
                        + [row.counts[s] for s in STATES])
    return out.getvalue()


def source_covers():
    """Source key -> the treatment categories its subject covers."""
    covers = {}
    for key, category in EvidenceSource.covers.through.objects.values_list(
            "evidencesource__key", "treatmentcategory__code"):
        covers.setdefault(key, set()).add(category)
    return {key: frozenset(codes) for key, codes in covers.items()}


def catalogue_review(*, user=None):
    """The review's candidate gaps (most dangerous first) and the coverage counts. Without a
    user (the management command, run by whoever runs the server) no check is made."""
    if user is not None:
        _may_review(user)
    catalogue = catalogue_snapshot()
    return catalogue_gaps(catalogue, source_covers()), coverage_counts(catalogue)
