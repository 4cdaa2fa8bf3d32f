"""The catalogue review: candidate gaps in the catalogue's evidence coverage, most dangerous
first. Plain functions over the engine's snapshot of the catalogue (and which treatment
categories each source's subject covers), so that the command, the admin page and the tests
see the same list.

A gap is a place where the catalogue is silent although its own evidence suggests it should
speak: a condition ruled on some treatments of a group and neither ruled nor decided on the
others; a source cited for a rule whose subject covers treatments without one; a step that
is a medicine or a procedure with no statement of who must not receive it; a relative rule
that one of its sources calls a contraindication, with no recorded disagreement.
"""

from dataclasses import dataclass

from treatments.engine import UNREVIEWED, coverage_state

SIBLING = "sibling"
SOURCE_SUBJECT = "source_subject"
STEP_SAFETY = "step_safety"
RELATIVE_AGAINST_SOURCE = "relative_against_source"

KIND_LABELS = {
    SIBLING: "ruled on its group, silent here",
    SOURCE_SUBJECT: "a cited source covers this treatment",
    STEP_SAFETY: "step with no statement of who must not receive it",
    RELATIVE_AGAINST_SOURCE: "relative, yet a source calls it a contraindication",
}
# How dangerous a silence is, by the strongest rule it leaves out (lower is worse).
SEVERITY_DANGER = {"absolute": 0, "relative": 2, "informational": 4}
STEPS_WITH_RISKS = ("medicine", "procedure")


@dataclass(frozen=True)
class Gap:
    kind: str
    danger: int
    message: str
    treatment: str = ""
    condition: str = ""
    step: str = ""

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]


def group_gaps(catalogue):
    """Conditions ruled on some treatments of a category or of a shared mechanism, and
    neither ruled nor decided on others of that group."""
    groups = {}
    for treatment in catalogue.treatments:
        groups.setdefault(("category", treatment.category), []).append(treatment)
        for mechanism in treatment.mechanisms:
            groups.setdefault(("mechanism", mechanism), []).append(treatment)
    found = {}
    for (kind, name), members in sorted(groups.items()):
        if len(members) < 2:
            continue
        ruled = {}
        for member in members:
            for condition, rule in member.rules.items():
                ruled.setdefault(condition, []).append((member.code, rule.severity))
        for condition, holders in ruled.items():
            if condition not in catalogue.conditions:
                continue
            danger = min(SEVERITY_DANGER[severity] for _code, severity in holders)
            for member in members:
                if coverage_state(member, condition, catalogue) != UNREVIEWED:
                    continue
                gap = Gap(SIBLING, danger, (
                    f"{condition} is ruled on {', '.join(sorted(f'{c} ({s})' for c, s in holders))}"
                    f" (same {kind}: {name}) but neither ruled nor decided on {member.code}"),
                    treatment=member.code, condition=condition)
                key = (member.code, condition)
                if key not in found or gap.danger < found[key].danger:
                    found[key] = gap
    return list(found.values())


def source_gaps(catalogue, source_covers):
    """A source cited for a rule on one treatment whose subject covers other treatments that
    have neither a rule nor a decision for that condition."""
    by_category = {}
    for treatment in catalogue.treatments:
        by_category.setdefault(treatment.category, []).append(treatment)
    found = {}
    for treatment in catalogue.treatments:
        for condition, rule in treatment.rules.items():
            for key in rule.sources:
                for category in sorted(source_covers.get(key, ())):
                    for other in by_category.get(category, ()):
                        if other.code == treatment.code or coverage_state(
                                other, condition, catalogue) != UNREVIEWED:
                            continue
                        pair = (other.code, condition)
                        danger = SEVERITY_DANGER[rule.severity] + 1
                        if pair not in found or danger < found[pair].danger:
                            found[pair] = Gap(SOURCE_SUBJECT, danger, (
                                f"{key}, cited for {condition} ({rule.severity}) on "
                                f"{treatment.code}, covers {category}; {other.code} has "
                                "neither a rule nor a decision for it"),
                                treatment=other.code, condition=condition)
    return list(found.values())


def step_gaps(catalogue):
    """Steps that are medicines or procedures, proposed by some treatment, with no statement
    of who must not receive them."""
    used = {requirement.code for treatment in catalogue.treatments
            for requirement in treatment.requirements}
    return [
        Gap(STEP_SAFETY, 1, (f"the step {step.code} is a {step.kind} and says neither who must "
                             "not receive it nor why no one is excluded"), step=step.code)
        for code, step in sorted(catalogue.steps.items())
        if code in used and step.kind in STEPS_WITH_RISKS
        and not step.contraindications and not step.safety_note.strip()
    ]


def severity_gaps(catalogue):
    """Relative rules that one of their sources calls a contraindication, with no recorded
    disagreement explaining the milder reading."""
    return [
        Gap(RELATIVE_AGAINST_SOURCE, 1, (
            f"{condition} is relative on {treatment.code}, yet "
            f"{', '.join(rule.contraindicated_by)} call it a contraindication and no "
            "disagreement is recorded"), treatment=treatment.code, condition=condition)
        for treatment in catalogue.treatments
        for condition, rule in sorted(treatment.rules.items())
        if rule.severity == "relative" and rule.contraindicated_by and not rule.disagreement
    ]


def catalogue_gaps(catalogue, source_covers):
    """Every candidate gap, most dangerous first."""
    gaps = (group_gaps(catalogue) + source_gaps(catalogue, source_covers)
            + step_gaps(catalogue) + severity_gaps(catalogue))
    return sorted(gaps, key=lambda g: (g.danger, g.kind, g.treatment, g.condition, g.step))


@dataclass(frozen=True)
class CoverageCounts:
    rules: int
    decided: int
    unreviewed: int
    pairs: int


def coverage_counts(catalogue):
    """How the (active condition, active treatment) pairs are covered."""
    rules = decided = unreviewed = 0
    for treatment in catalogue.treatments:
        for condition in catalogue.conditions:
            state = coverage_state(treatment, condition, catalogue)
            if state == UNREVIEWED:
                unreviewed += 1
            elif state in SEVERITY_DANGER:
                rules += 1
            else:
                decided += 1
    return CoverageCounts(rules=rules, decided=decided, unreviewed=unreviewed,
                          pairs=len(catalogue.treatments) * len(catalogue.conditions))
