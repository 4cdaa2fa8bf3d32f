"""The recommendation engine's pure core: plain data in, plain data out.

No ORM, no request, no settings: the engine reads an intake and a snapshot of the catalogue
(both dataclasses) and can be tested and reasoned about on its own. The snapshot is built
from the database by treatments.snapshot; everything clinical lives in that data.

Step 1 of the decision rules is here: normalising the intake. The app's conflict policies are
named, documented policies (their wording and on/off switch live in the catalogue); condition
implications come from the catalogue.
"""

from dataclasses import dataclass, field

PHOTOTYPES = ("I", "II", "III", "IV", "V", "VI")
UNKNOWN_PHOTOTYPE = "unknown"
LIGHT_PHOTOTYPES = ("I", "II")
MEDICATION_KIND = "medication"

# The named conflict policies the engine knows how to apply (see ConflictPolicy).
DIABETES_BOTH_ANSWERS = "diabetes_both_answers"
PREGNANCY_UNSURE = "pregnancy_unsure"
FITZPATRICK_UNKNOWN = "fitzpatrick_unknown"
PHOTOTYPE_CONTRADICTS_TAN = "phototype_contradicts_tan"
NO_MEDICATIONS_CONTRADICTION = "no_medications_contradiction"

DIABETES_CONTROLLED = "diabetes_controlled"
DIABETES_UNCONTROLLED = "diabetes_uncontrolled"
PREGNANCY = "pregnancy"
RECENT_TAN = "recent_tan"


@dataclass(frozen=True)
class Intake:
    """What the consultation recorded, in catalogue codes."""

    fitzpatrick: str = UNKNOWN_PHOTOTYPE
    concerns: tuple = ()  # ((concern code, severity), ...)
    conditions: frozenset = frozenset()
    pregnancy_answer: str = ""  # "yes", "no", "unsure" or "" when not asked
    treatment_area: str = ""
    acne_scar_subtypes: tuple = ()
    skin_type: str = ""
    no_medications: bool = False
    questionnaire_phototype: str = ""  # what the Fitzpatrick questionnaire gave, if filled


@dataclass(frozen=True)
class ConditionFacts:
    code: str
    kind: str
    implies: tuple = ()
    label: str = ""


@dataclass(frozen=True)
class PolicyFacts:
    code: str
    title: str
    action: str


@dataclass(frozen=True)
class CatalogueSnapshot:
    conditions: dict = field(default_factory=dict)  # code -> ConditionFacts
    policies: tuple = ()  # active PolicyFacts, in catalogue order

    def policy(self, code):
        return next((policy for policy in self.policies if policy.code == code), None)


@dataclass(frozen=True)
class Note:
    """What a policy changed or flagged, and why."""

    policy: str
    title: str
    message: str


@dataclass(frozen=True)
class NormalisedIntake:
    conditions: frozenset
    notes: tuple


def expand_implications(conditions, catalogue):
    """Add every condition implied by one present, until nothing changes
    (an active cold sore implies a history of cold sores)."""
    present = set(conditions)
    pending = list(present)
    while pending:
        code = pending.pop()
        facts = catalogue.conditions.get(code)
        for implied in facts.implies if facts else ():
            if implied not in present:
                present.add(implied)
                pending.append(implied)
    return frozenset(present)


def normalise(intake, catalogue):
    """Apply the active conflict policies, then the condition implications.

    Policies that change conditions run first (diabetes, pregnancy); implications are then
    expanded; policies that only flag something for the clinician look at the result.
    """
    conditions = set(intake.conditions)
    notes = []

    def note(code, message):
        policy = catalogue.policy(code)
        if policy is not None:
            notes.append(Note(policy=code, title=policy.title, message=message))
        return policy is not None

    if intake.pregnancy_answer == "yes":
        conditions.add(PREGNANCY)
    if intake.pregnancy_answer == "unsure" and note(
            PREGNANCY_UNSURE,
            "Pregnancy was answered 'unsure': the intake is read as pregnant until clarified."):
        conditions.add(PREGNANCY)

    if {DIABETES_CONTROLLED, DIABETES_UNCONTROLLED} <= conditions and note(
            DIABETES_BOTH_ANSWERS,
            "Both controlled and uncontrolled diabetes were ticked: only uncontrolled diabetes "
            "(the stricter) is applied."):
        conditions.discard(DIABETES_CONTROLLED)

    conditions = expand_implications(conditions, catalogue)

    if intake.fitzpatrick not in PHOTOTYPES:
        note(FITZPATRICK_UNKNOWN,
             "The phototype is unknown: pigmentation risk is read as the highest for types "
             "III to VI, and the phototype should be assessed in person.")

    if RECENT_TAN in conditions:
        if intake.fitzpatrick in LIGHT_PHOTOTYPES:
            message = (f"A recent tan was recorded with a light phototype ({intake.fitzpatrick}): "
                       "re-check the phototype; recent-tan rules are applied.")
        else:
            message = "A recent tan was recorded: re-check the phototype; recent-tan rules are applied."
        note(PHOTOTYPE_CONTRADICTS_TAN, message)
    if (intake.questionnaire_phototype in PHOTOTYPES and intake.fitzpatrick in PHOTOTYPES
            and intake.questionnaire_phototype != intake.fitzpatrick):
        note(PHOTOTYPE_CONTRADICTS_TAN,
             f"The recorded phototype ({intake.fitzpatrick}) differs from the one the "
             f"questionnaire gives ({intake.questionnaire_phototype}): re-check it.")

    medications = sorted(facts.label or facts.code for code in conditions
                         if (facts := catalogue.conditions.get(code)) is not None
                         and facts.kind == MEDICATION_KIND)
    if intake.no_medications and medications:
        note(NO_MEDICATIONS_CONTRADICTION,
             "'No medications' was ticked, yet medicines were recorded "
             f"({'; '.join(medications)}): they are kept and applied.")

    return NormalisedIntake(conditions=frozenset(conditions), notes=tuple(notes))
