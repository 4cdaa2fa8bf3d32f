"""The recommendation engine's pure core: plain data in, plain data out.

No ORM, no request, no settings: the engine reads an intake and a snapshot of the catalogue
(both dataclasses) and can be tested and reasoned about on its own. Its messages are
translatable sentences, translated only when shown (so the page reads them in the reader's
language and the recommend command in English). The snapshot is built from the database
by treatments.snapshot; everything clinical lives in that data.

Step 1 of the decision rules is here: normalising the intake. The app's conflict policies are
named, documented policies (their wording and on/off switch live in the catalogue); condition
implications come from the catalogue.
"""

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

# The intake's vocabularies. The models' choices, the intake form and the command's input
# list these codes and no others (tests/consultations/test_vocabulary.py checks them).
PHOTOTYPES = ("I", "II", "III", "IV", "V", "VI")
UNKNOWN_PHOTOTYPE = "unknown"
LIGHT_PHOTOTYPES = ("I", "II")
PHOTOTYPE_FLAG = "fitzpatrick"  # the code of a flag raised by the patient's phototype
SKIN_TYPES = ("normal", "dry", "oily", "combination", "sensitive")
TREATMENT_AREAS = ("full_face", "perioral", "partial_face", "neck", "body")
ACNE_SCAR_SUBTYPES = ("rolling", "boxcar", "icepick")
ANSWERS = ("yes", "no", "unsure")  # a yes/no question, where 'unsure' may be allowed
DATED_NEVER = "never"
DATED_ON = "date"
DATED_ONGOING = "ongoing"
DATED_ANSWER_KINDS = (DATED_NEVER, DATED_ON, DATED_ONGOING)
MEDICATION_KIND = "medication"


def _filled_in(message, **values):
    return message % values


# A translatable message with its %(named)s placeholders filled in, translated only when
# shown: the page reads it in the reader's language, the command in English.
message_with = lazy(_filled_in, str)

# The named conflict policies the engine knows how to apply (see ConflictPolicy).
DIABETES_BOTH_ANSWERS = "diabetes_both_answers"
PREGNANCY_UNSURE = "pregnancy_unsure"
UNSURE_ANSWERS = "unsure_answers"  # the engine's own reading of 'unsure', not switchable
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
    questionnaire_phototype: str = ""  # what the Fitzpatrick questionnaire gave, if known
    questionnaire_answers: tuple = ()  # ((question key, score 0-4), ...) as recorded
    unsure_conditions: frozenset = frozenset()  # answered "unsure" (pregnancy has its own)
    dated_answers: tuple = ()  # ((question code, "date" | "ongoing" | "never", date), ...)
    as_of: date | None = None  # the day the treatment would be given
    date_of_birth: date | None = None  # when known, the age conditions follow from it


@dataclass(frozen=True)
class DatedQuestionFacts:
    """A question answered with a date, and the conditions its windows give."""

    code: str
    ongoing_condition: str = ""
    windows: tuple = ()  # ((condition code, length, unit), ...)


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
class RuleFacts:
    """A contraindication rule: the condition, how severe, and its evidence."""

    condition: str
    severity: str  # absolute, relative or informational
    rationale: str
    basis: str = ""
    confidence: str = ""
    sources: tuple = ()
    scope: str = ""
    contraindicated_by: tuple = ()  # its sources that call the condition a contraindication
    disagreement: str = ""  # the recorded disagreement that settles it, if any
    window: tuple | None = None  # (length, unit): its own window for a date-derived condition
    window_sources: tuple = ()


@dataclass(frozen=True)
class RequirementFacts:
    """A pre-treatment step and who it applies to."""

    code: str
    label: str
    strength: str
    timing: str = ""
    applies_to_all: bool = False
    conditions: frozenset = frozenset()
    concerns: frozenset = frozenset()
    phototype_from: str = ""
    phototype_to: str = ""
    areas: frozenset = frozenset()
    key: str = ""  # which catalogue step this is, for its translations


@dataclass(frozen=True)
class StepContraindicationFacts:
    """A condition under which a pre-treatment step must not itself be given, and the step
    to propose instead (empty when there is none)."""

    condition: str
    rationale: str
    alternative: str = ""
    basis: str = ""
    confidence: str = ""
    sources: tuple = ()


@dataclass(frozen=True)
class StepFacts:
    """A pre-treatment step of the catalogue as such (not as attached to a treatment)."""

    code: str
    label: str
    kind: str = "instruction"
    contraindications: tuple = ()  # StepContraindicationFacts
    safety_note: str = ""  # who must not receive it, or why no one is excluded


@dataclass(frozen=True)
class TreatmentFacts:
    code: str
    name: str
    depth_rank: int
    indications: tuple = ()  # ((concern, strength, contested), ...)
    not_indicated: tuple = ()  # ((concern, reason), ...)
    rules: dict = field(default_factory=dict)  # condition code -> RuleFacts
    requirements: tuple = ()
    suitable: frozenset = frozenset()
    caution: frozenset = frozenset()
    excluded: frozenset = frozenset()
    pih_risk: dict = field(default_factory=dict)  # phototype -> low/moderate/high/...
    referral: bool = False
    category: str = ""
    mechanisms: tuple = ()
    depth: str = ""
    decided: frozenset = frozenset()  # conditions reviewed as needing no rule here
    minimum_interval: tuple | None = None  # (length, unit) before a further session


@dataclass(frozen=True)
class CatalogueSnapshot:
    conditions: dict = field(default_factory=dict)  # code -> ConditionFacts
    policies: tuple = ()  # active PolicyFacts, in catalogue order
    treatments: tuple = ()  # active TreatmentFacts
    concerns: frozenset = frozenset()  # active concern codes
    version: int = 0  # the catalogue state this snapshot was read at
    category_decisions: dict = field(default_factory=dict)  # category -> frozenset of codes
    steps: dict = field(default_factory=dict)  # step code -> StepFacts
    dated_questions: dict = field(default_factory=dict)  # code -> DatedQuestionFacts

    def policy(self, code):
        return next((policy for policy in self.policies if policy.code == code), None)


# -- Coverage: is a (condition, treatment) pair ruled, decided or not reviewed? ----------

DECIDED = "decided"
DECIDED_FOR_CATEGORY = "decided_category"
UNREVIEWED = "unreviewed"


def coverage_state(treatment, condition, catalogue):
    """How the catalogue covers one condition for one treatment: its rule's severity
    (absolute, relative, informational), a reviewed decision that no rule is needed (for
    this treatment, or for its whole category), or not reviewed. The treatment's own rule
    or decision overrides its category's decision."""
    rule = treatment.rules.get(condition)
    if rule is not None:
        return rule.severity
    if condition in treatment.decided:
        return DECIDED
    if condition in catalogue.category_decisions.get(treatment.category, ()):
        return DECIDED_FOR_CATEGORY
    return UNREVIEWED


def unreviewed_conditions(treatment, conditions, catalogue):
    """The patient's conditions the catalogue has not reviewed for this treatment: neither a
    rule nor a decision. They are unknowns, never clear."""
    return tuple(sorted(code for code in conditions if code in catalogue.conditions
                        and coverage_state(treatment, code, catalogue) == UNREVIEWED))


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
    until: dict = field(default_factory=dict)  # date-derived condition -> first day it lapses


# -- The Fitzpatrick questionnaire: ten answers, each scored 0 to 4 -----------------------

FITZPATRICK_KEYS = ("eyes", "hair", "skin", "freckles", "burn", "tan_depth", "tan_speed",
                    "face", "last_exposure", "face_exposure")
# Total score -> phototype: 0-6 I, 7-13 II, 14-20 III, 21-27 IV, 28-34 V, 35-40 VI.
FITZPATRICK_SCORE_BANDS = ((6, "I"), (13, "II"), (20, "III"), (27, "IV"), (34, "V"), (40, "VI"))


def questionnaire_phototype(answers):
    """The phototype the questionnaire gives, or "" until every question is answered."""
    scores = [answers.get(key) for key in FITZPATRICK_KEYS]
    if any(score is None or score == "" for score in scores):
        return ""
    total = sum(int(score) for score in scores)
    return next(phototype for upper, phototype in FITZPATRICK_SCORE_BANDS if total <= upper)


# -- Time windows: conditions that follow from a dated answer ----------------------------

def window_start(on, length, unit):
    """The first day of a window of `length` days, weeks or months ending on `on`.

    Months are calendar months: six months before 31 August is 28 (or 29) February.
    """
    if unit == "days":
        return on - timedelta(days=length)
    if unit == "weeks":
        return on - timedelta(weeks=length)
    if unit == "months":
        year, month_index = divmod(on.month - 1 - length, 12)
        year, month = on.year + year, month_index + 1
        return date(year, month, min(on.day, calendar.monthrange(year, month)[1]))
    raise ValueError(f"unknown window unit {unit!r}")


def within_window(when, on, length, unit):
    """True when `when` lies in the window ending on `on`; the window's first day counts
    (the conservative reading: exactly six months ago is still 'within six months')."""
    return window_start(on, length, unit) <= when <= on


def window_lapses(when, length, unit):
    """The first day on which a dated answer no longer falls within the window."""
    if unit == "days":
        return when + timedelta(days=length + 1)
    if unit == "weeks":
        return when + timedelta(weeks=length, days=1)
    year, month_index = divmod(when.month - 1 + length, 12)
    year, month = when.year + year, month_index + 1
    day = when.replace(year=year, month=month, day=min(when.day,
                                                       calendar.monthrange(year, month)[1]))
    while window_start(day, length, unit) <= when:  # month ends clamp: step past them
        day += timedelta(days=1)
    return day


def interval_end(when, length, unit):
    """The first day on which `length` days, weeks or calendar months have passed since
    `when`, measured as the windows measure back: the first day whose window reaching back
    that far begins on or after `when`. A month end that does not exist in the later month
    is stepped past, never clamped short: three months after 31 January is 1 May."""
    if unit == "days":
        return when + timedelta(days=length)
    if unit == "weeks":
        return when + timedelta(weeks=length)
    if unit != "months":
        raise ValueError(f"unknown window unit {unit!r}")
    year, month_index = divmod(when.month - 1 + length, 12)
    year, month = when.year + year, month_index + 1
    day = date(year, month, min(when.day, calendar.monthrange(year, month)[1]))
    while window_start(day, length, unit) < when:
        day += timedelta(days=1)
    return day


def earliest_repeat(treatment: TreatmentFacts, previous_day: date) -> date | None:
    """The first day a further session of the treatment may be given after one on
    `previous_day`, by its labelled minimum interval (BOTOX Cosmetic: not more often than
    every 3 months); None when the catalogue gives the treatment no minimum."""
    if treatment.minimum_interval is None:
        return None
    length, unit = treatment.minimum_interval
    return interval_end(previous_day, length, unit)


def rule_windows(treatment):
    """Condition -> (length, unit) for the treatment's rules that carry their own window:
    where the treatment's sources give a different interval (a recent resurfacing matters
    for months before a laser, for two weeks before a medical facial)."""
    return {code: rule.window for code, rule in treatment.rules.items() if rule.window}


def dated_conditions(intake, catalogue, windows=None):
    """The conditions the dated answers give on the day of treatment, each with the first
    day it lapses (None for an ongoing one). `windows` (condition -> (length, unit)) stands
    in for the catalogue's window of those conditions: one treatment's own rule windows."""
    windows = windows or {}
    present = {}
    for code, answer, when in intake.dated_answers:
        facts = catalogue.dated_questions.get(code)
        if facts is None:
            continue
        if answer == "ongoing" and facts.ongoing_condition:
            present[facts.ongoing_condition] = None
        elif answer == "date" and when is not None and intake.as_of is not None:
            for condition, length, unit in facts.windows:
                length, unit = windows.get(condition, (length, unit))
                if within_window(when, intake.as_of, length, unit):
                    lapses = window_lapses(when, length, unit)
                    if condition not in present or (present[condition] is not None
                                                    and present[condition] < lapses):
                        present[condition] = lapses
    return present


# -- Age on the day of treatment -------------------------------------------------------------

# Conditions the date of birth decides on the day of treatment, whatever was answered:
# (condition code, the age from which it applies, the age from which it no longer does).
AGE_CONDITIONS = (("age_under_18", None, 18), ("age_under_21", None, 21),
                  ("age_over_65", 65, None))


def birthday(born, years):
    """The day someone born on `born` turns `years` old (29 February: 1 March in the other
    years, the later reading)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def age_conditions(intake, catalogue):
    """The age conditions that hold on the day of treatment, each with the first day it no
    longer holds (None: it never lapses): a patient planned for next spring may have turned
    18, or 65, by then."""
    born, on = intake.date_of_birth, intake.as_of
    if born is None or on is None:
        return {}
    present = {}
    for code, from_age, below_age in AGE_CONDITIONS:
        if code not in catalogue.conditions:
            continue
        if from_age is not None and on < birthday(born, from_age):
            continue
        if below_age is not None and on >= birthday(born, below_age):
            continue
        present[code] = birthday(born, below_age) if below_age is not None else None
    return present


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


def normalise(intake, catalogue, windows=None):
    """Apply the active conflict policies, then the condition implications.

    Policies that change conditions run first (diabetes, pregnancy); implications are then
    expanded; policies that only flag something for the clinician look at the result.
    `windows` replaces the catalogue's window of some date-derived conditions (one
    treatment's own rule windows, see rule_windows).
    """
    conditions = set(intake.conditions)
    notes = []
    dated = dated_conditions(intake, catalogue, windows)
    # A condition given outright has no end; one that follows only from a date lapses.
    until = {code: lapses for code, lapses in dated.items()
             if lapses is not None and code not in conditions}
    conditions |= set(dated)
    aged = age_conditions(intake, catalogue)
    until |= {code: lapses for code, lapses in aged.items()
              if lapses is not None and code not in conditions}
    conditions |= set(aged)

    def note(code, message):
        policy = catalogue.policy(code)
        if policy is not None:
            notes.append(Note(policy=code, title=policy.title, message=message))
        return policy is not None

    if intake.unsure_conditions:
        # 'Unsure' is read as present: the cautious reading, until clarified.
        conditions |= intake.unsure_conditions
        labels = sorted(facts.label or code for code in intake.unsure_conditions
                        if (facts := catalogue.conditions.get(code)) is not None)
        notes.append(Note(policy=UNSURE_ANSWERS, title=_("Unsure answers"),
                          message=message_with(_("Answered 'unsure', read as present until "
                                                 "clarified: %(conditions)s."),
                                               conditions="; ".join(labels))))
    if intake.pregnancy_answer == "yes":
        conditions.add(PREGNANCY)
    if intake.pregnancy_answer == "unsure":
        # 'Unsure' is never read as 'no': with the policy switched off, the cautious
        # reading still applies, and the note says so.
        conditions.add(PREGNANCY)
        if not note(PREGNANCY_UNSURE, _("Pregnancy was answered 'unsure': the intake is read "
                                        "as pregnant until clarified.")):
            notes.append(Note(
                policy=PREGNANCY_UNSURE, title=_("Unsure about pregnancy"),
                message=_("Pregnancy was answered 'unsure' and the catalogue's policy for it "
                          "is switched off: the cautious reading applies, as pregnant until "
                          "clarified.")))

    if {DIABETES_CONTROLLED, DIABETES_UNCONTROLLED} <= conditions and note(
            DIABETES_BOTH_ANSWERS,
            _("Both controlled and uncontrolled diabetes were ticked: only uncontrolled "
              "diabetes (the stricter) is applied.")):
        conditions.discard(DIABETES_CONTROLLED)

    before = set(conditions)
    conditions = expand_implications(conditions, catalogue)
    # A condition lapses with the last of the date-derived answers that give it, directly or
    # by implication; given by anything lasting, it lasts.
    lapsing = {}
    for code in conditions:
        sources = [given for given in before
                   if given == code or code in expand_implications({given}, catalogue)]
        if sources and all(given in until for given in sources):
            lapsing[code] = max(until[given] for given in sources)
    until = lapsing

    if intake.fitzpatrick not in PHOTOTYPES:
        note(FITZPATRICK_UNKNOWN,
             _("The phototype is unknown: pigmentation risk is read as the highest for types "
               "III to VI, and the phototype should be assessed in person."))

    if RECENT_TAN in conditions:
        if intake.fitzpatrick in LIGHT_PHOTOTYPES:
            message = message_with(_("A recent tan was recorded with a light phototype "
                                     "(%(phototype)s): re-check the phototype; recent-tan "
                                     "rules are applied."), phototype=intake.fitzpatrick)
        else:
            message = _("A recent tan was recorded: re-check the phototype; recent-tan rules "
                        "are applied.")
        note(PHOTOTYPE_CONTRADICTS_TAN, message)
    questionnaire = (intake.questionnaire_phototype
                     or questionnaire_phototype(dict(intake.questionnaire_answers)))
    if (questionnaire in PHOTOTYPES and intake.fitzpatrick in PHOTOTYPES
            and questionnaire != intake.fitzpatrick):
        note(PHOTOTYPE_CONTRADICTS_TAN,
             message_with(_("The recorded phototype (%(recorded)s) differs from the one the "
                            "questionnaire gives (%(questionnaire)s): re-check it."),
                          recorded=intake.fitzpatrick, questionnaire=questionnaire))

    medications = sorted(facts.label or facts.code for code in conditions
                         if (facts := catalogue.conditions.get(code)) is not None
                         and facts.kind == MEDICATION_KIND)
    if intake.no_medications and medications:
        note(NO_MEDICATIONS_CONTRADICTION,
             message_with(_("'No medications' was ticked, yet medicines were recorded "
                            "(%(medicines)s): they are kept and applied."),
                          medicines="; ".join(medications)))

    return NormalisedIntake(conditions=frozenset(conditions), notes=tuple(notes),
                            until=until)


# -- Steps 2 to 9: candidates, flags, phototypes, requirements, ranking ------------------

SEVERITY_WEIGHT = {"mild": 1, "moderate": 2, "severe": 3}
SEVERITIES = tuple(SEVERITY_WEIGHT)  # a concern's severity, mildest first
DEFAULT_SEVERITY = "moderate"
STRENGTH_POINTS = {"primary": 2, "secondary": 1}
# The depth rank each severity is best served by: mild concerns favour superficial
# treatments (epidermis), moderate ones the papillary dermis, severe ones deeper work.
TARGET_DEPTH = {"mild": 1, "moderate": 2, "severe": 3}
DEPTH_POINTS = {0: 1.0, 1: 0.5, 2: 0.0}  # by distance from the target; further: -0.5
FAR_DEPTH_POINTS = -0.5
CAUTION_PENALTY = 2.0  # per relative flag
PIH_PENALTY = {"high": 2.0, "moderate": 1.0}
PIH_ORDER = ("not_applicable", "low", "moderate", "high")
CONSERVATIVE_PHOTOTYPES = ("III", "IV", "V", "VI")
STRENGTH_ORDER = ("required", "recommended", "consider")


@dataclass(frozen=True)
class Flag:
    """A contraindication that applies to this patient, with the answer that triggered it."""

    code: str  # the condition code, or PHOTOTYPE_FLAG
    severity: str  # absolute or relative
    reason: str
    basis: str = ""
    confidence: str = ""
    sources: tuple = ()
    scope: str = ""
    until: date | None = None  # first day it no longer applies, for a date-derived flag


@dataclass(frozen=True)
class AttachedRequirement:
    code: str
    label: str
    strength: str
    reason: str
    timing: str = ""
    key: str = ""
    triggers: tuple = ()  # the condition or concern codes that called for it
    replaces: str = ""  # the step this one stands in for, unsafe for this patient
    replaces_label: str = ""
    replaced_because: tuple = ()  # StepContraindicationFacts that swapped it in
    unsafe_for: tuple = ()  # StepContraindicationFacts present and without an alternative

    @property
    def unsafe(self):
        return bool(self.unsafe_for)


@dataclass(frozen=True)
class ScoreParts:
    """How a treatment's rank was reached, so a clinician can follow it:
    score = indication + depth - cautions - pigmentation."""

    indication: float = 0.0
    depth: float = 0.0
    cautions: float = 0.0
    pigmentation: float = 0.0

    @property
    def total(self):
        return round(self.indication + self.depth - self.cautions - self.pigmentation, 2)


@dataclass(frozen=True)
class TreatmentResult:
    code: str
    name: str
    indicated: bool
    matched_concerns: tuple  # ((concern, strength, severity, contested), ...)
    not_indicated_for: tuple  # ((concern, reason), ...) the catalogue's list
    flags: tuple
    notes: tuple  # informational rules: (condition, rationale, sources)
    requirements: tuple
    fitzpatrick: str  # suitable, caution, excluded or unknown
    pih_risk: str  # low, moderate, high, not_applicable or unknown
    referral: bool
    score: ScoreParts
    unreviewed: tuple = ()  # the patient's conditions with neither a rule nor a decision

    @property
    def excluded(self):
        return any(flag.severity == "absolute" for flag in self.flags)

    @property
    def suitable_from(self):
        """When every absolute flag follows from a date: the first day none applies."""
        absolute = [flag for flag in self.flags if flag.severity == "absolute"]
        if not absolute or any(flag.until is None for flag in absolute):
            return None
        return max(flag.until for flag in absolute)

    @property
    def cautions(self):
        return tuple(flag for flag in self.flags if flag.severity == "relative")

    @property
    def suitable(self):
        return self.indicated and not self.excluded


@dataclass(frozen=True)
class Recommendation:
    conditions: frozenset
    notes: tuple  # policy Notes
    treatments: tuple  # every active treatment's TreatmentResult, best first
    concerns_given: bool

    @property
    def recommended(self):
        """Bookable suitable procedures, best first (refer-out options are listed apart)."""
        return tuple(t for t in self.treatments if t.suitable and not t.referral)

    @property
    def referrals(self):
        return tuple(t for t in self.treatments if t.suitable and t.referral)

    @property
    def excluded(self):
        return tuple(t for t in self.treatments if t.indicated and t.excluded)

    @property
    def no_suitable_option(self):
        return self.concerns_given and not any(t.suitable for t in self.treatments)


def phototype_suitability(treatment, phototype):
    if phototype in treatment.excluded:
        return "excluded"
    if phototype in treatment.caution:
        return "caution"
    if phototype in treatment.suitable:
        return "suitable"
    return "unknown"


def pih_risk(treatment, phototype):
    """The pigmentation risk for the patient's type. An unknown type takes the highest risk
    across types III to VI (the conservative reading); unsourced values read as unknown."""
    if phototype in PHOTOTYPES:
        value = treatment.pih_risk.get(phototype, "unsourced")
        return value if value in PIH_ORDER else "unknown"
    values = [treatment.pih_risk.get(t) for t in CONSERVATIVE_PHOTOTYPES]
    known = [v for v in values if v in PIH_ORDER]
    if not known:
        return "unknown"
    return max(known, key=PIH_ORDER.index)


def phototype_flags(treatment, phototype):
    """Excluded type: an absolute flag. Caution type: a relative flag. Unknown type on a
    treatment that excludes or cautions some types: a relative flag, until assessed."""
    if phototype in PHOTOTYPES:
        suitability = phototype_suitability(treatment, phototype)
        if suitability == "excluded":
            return (Flag(PHOTOTYPE_FLAG, "absolute", message_with(
                _("Fitzpatrick type %(phototype)s is outside this treatment's safe range."),
                phototype=phototype)),)
        if suitability == "caution":
            return (Flag(PHOTOTYPE_FLAG, "relative", message_with(
                _("Fitzpatrick type %(phototype)s needs caution with this treatment (pigment "
                  "changes, burns): adjust settings and justify."), phototype=phototype)),)
        return ()
    limited = sorted(treatment.excluded | treatment.caution, key=PHOTOTYPES.index)
    if limited:
        return (Flag(PHOTOTYPE_FLAG, "relative", message_with(
            ngettext_lazy("The phototype is unknown and this treatment excludes or needs "
                          "caution for type %(types)s: assess the phototype in person before "
                          "booking.",
                          "The phototype is unknown and this treatment excludes or needs "
                          "caution for types %(types)s: assess the phototype in person before "
                          "booking.", "count"),
            count=len(limited), types=", ".join(limited))),)
    return ()


def requirement_applies(requirement, intake, conditions, concerns):
    """Decision rule 5: a step applies to everyone, or when the patient has one of its
    conditions or concerns, a phototype in its range (an unknown type matches), or a
    treatment area it names. Returns the reason and the condition or concern codes that
    triggered it, or ("", ()) when it does not apply."""
    if requirement.applies_to_all:
        return _("every patient"), ()
    for present in (requirement.conditions & conditions, requirement.concerns & concerns):
        matched = tuple(sorted(present))
        if matched:
            return ", ".join(matched), matched
    if requirement.phototype_from:
        low = PHOTOTYPES.index(requirement.phototype_from)
        high = PHOTOTYPES.index(requirement.phototype_to or requirement.phototype_from)
        if intake.fitzpatrick not in PHOTOTYPES:
            return message_with(_("phototype unknown (step applies to types "
                                  "%(first)s-%(last)s)"), first=requirement.phototype_from,
                                last=requirement.phototype_to), ()
        if low <= PHOTOTYPES.index(intake.fitzpatrick) <= high:
            return message_with(_("phototype %(phototype)s"), phototype=intake.fitzpatrick), ()
    if intake.treatment_area and intake.treatment_area in requirement.areas:
        return message_with(_("treatment area %(area)s"), area=intake.treatment_area), ()
    return "", ()


def keep_strongest(steps, step):
    """The same step attached twice (say, required with a history and recommended for
    everyone, or swapped in for two unsafe ones) is listed once, at its strongest."""
    earlier = steps.get(step.code)
    if earlier is None or STRENGTH_ORDER.index(step.strength) < STRENGTH_ORDER.index(
            earlier.strength):
        steps[step.code] = step


def step_made_safe(step, conditions, catalogue):
    """Decision rule 5b: a step is never proposed as if it were safe for a patient it is
    contraindicated for. Where the step has a safer alternative for the patient's condition,
    the alternative is proposed in its place (itself checked the same way); where none is
    given, the step stays, flagged with the conditions it is unsafe for."""
    seen = {step.code}
    current = step
    while True:
        facts = catalogue.steps.get(current.code)
        present = tuple(c for c in (facts.contraindications if facts else ())
                        if c.condition in conditions)
        swaps = [c for c in present if c.alternative and c.alternative not in seen
                 and c.alternative in catalogue.steps]
        if not swaps:
            return replace(current, unsafe_for=present) if present else current
        alternative = catalogue.steps[swaps[0].alternative]
        seen.add(alternative.code)
        current = replace(
            current, code=alternative.code, label=alternative.label, key="", timing="",
            replaces=step.code, replaces_label=step.label,
            replaced_because=current.replaced_because + tuple(swaps),
        )


def depth_points(depth_rank, severity):
    distance = abs(depth_rank - TARGET_DEPTH[severity])
    return DEPTH_POINTS.get(distance, FAR_DEPTH_POINTS)


def evaluate(treatment, intake, conditions, concern_severity, catalogue, until=None):
    matched = []
    indication_points = 0.0
    depth_total = 0.0
    for concern, strength, contested in treatment.indications:
        severity = concern_severity.get(concern)
        if severity is None:
            continue
        matched.append((concern, strength, severity, contested))
        points = STRENGTH_POINTS.get(strength, 0) * SEVERITY_WEIGHT[severity]
        indication_points += points / 2 if contested else points
        depth_total += depth_points(treatment.depth_rank, severity)

    flags, notes = [], []
    for condition in sorted(conditions):
        rule = treatment.rules.get(condition)
        if rule is None:
            continue
        if rule.severity == "informational":
            notes.append((rule.condition, rule.rationale, rule.sources))
            continue
        flags.append(Flag(rule.condition, rule.severity, rule.rationale, rule.basis,
                          rule.confidence, rule.sources, rule.scope,
                          until=(until or {}).get(rule.condition)))
    flags.extend(phototype_flags(treatment, intake.fitzpatrick))
    flags.sort(key=lambda flag: (flag.severity != "absolute", flag.code))

    concern_codes = frozenset(concern_severity)
    requirements = {}
    for requirement in treatment.requirements:
        reason, triggers = requirement_applies(requirement, intake, conditions, concern_codes)
        if not reason:
            continue
        attached = AttachedRequirement(requirement.code, requirement.label,
                                       requirement.strength, reason, requirement.timing,
                                       requirement.key, triggers)
        keep_strongest(requirements, attached)
    steps = {}
    for attached in requirements.values():
        keep_strongest(steps, step_made_safe(attached, conditions, catalogue))

    risk = pih_risk(treatment, intake.fitzpatrick)
    indicated = bool(matched)
    score = ScoreParts(
        indication=indication_points,
        depth=depth_total,
        cautions=CAUTION_PENALTY * sum(1 for f in flags if f.severity == "relative"),
        pigmentation=PIH_PENALTY.get(risk, 0.0),
    ) if indicated else ScoreParts()
    fitzpatrick = (phototype_suitability(treatment, intake.fitzpatrick)
                   if intake.fitzpatrick in PHOTOTYPES else "unknown")
    return TreatmentResult(
        code=treatment.code, name=treatment.name, indicated=indicated,
        matched_concerns=tuple(matched), not_indicated_for=tuple(treatment.not_indicated),
        flags=tuple(flags), notes=tuple(notes), requirements=tuple(steps.values()),
        fitzpatrick=fitzpatrick, pih_risk=risk, referral=treatment.referral, score=score,
        unreviewed=unreviewed_conditions(treatment, conditions, catalogue),
    )


# The intake schema reads a 'sensitive' skin type as the concern of a sensitive barrier.
SENSITIVE_SKIN_TYPE = "sensitive"
SENSITIVE_SKIN_CONCERN = "sensitive_barrier"


def concern_severities(intake):
    severities = {}
    for concern, severity in intake.concerns:
        severities[concern] = severity if severity in SEVERITY_WEIGHT else DEFAULT_SEVERITY
    return severities


def skin_type_concerns(intake, severities):
    """A sensitive skin type counts as a mild sensitive-barrier concern when not given."""
    if intake.skin_type == SENSITIVE_SKIN_TYPE and SENSITIVE_SKIN_CONCERN not in severities:
        return {**severities, SENSITIVE_SKIN_CONCERN: "mild"}, (Note(
            policy="sensitive_skin_type", title=_("Sensitive skin"),
            message=_("A sensitive skin type is read as a mild sensitive-barrier concern.")),)
    return severities, ()


def treatment_normalised(treatment, intake, catalogue, normalised):
    """The intake as one treatment reads it. A rule with its own window decides, for this
    treatment alone, whether its date-derived condition applies on the day of treatment and
    when it lapses (with what it implies); every other treatment keeps the condition's
    window. The notes stay those of the catalogue's windows."""
    windows = rule_windows(treatment)
    if not windows or not intake.dated_answers:
        return normalised
    return normalise(intake, catalogue, windows)


def recommend(intake, catalogue):
    """Rank the catalogue's treatments for one intake, explaining every match and flag.

    Suitable treatments come first by score (indication points weighted by concern severity,
    plus depth fit, minus CAUTION_PENALTY per caution and the pigmentation penalty); then by
    fewer cautions and by name, so that equal scores keep a stable order.
    """
    normalised = normalise(intake, catalogue)
    severities, skin_notes = skin_type_concerns(intake, concern_severities(intake))
    results = []
    for treatment in catalogue.treatments:
        facts = treatment_normalised(treatment, intake, catalogue, normalised)
        results.append(evaluate(treatment, intake, facts.conditions, severities, catalogue,
                                facts.until))
    results.sort(key=lambda r: (not r.suitable, not r.indicated, -r.score.total,
                                len(r.cautions), r.name))
    return Recommendation(conditions=normalised.conditions, notes=normalised.notes + skin_notes,
                          treatments=tuple(results), concerns_given=bool(severities))


def active_treatment(catalogue, code):
    """The catalogue's active treatment with that code, or None."""
    return next((t for t in catalogue.treatments if t.code == code), None)


def assess(intake, catalogue, code):
    """One treatment's result for the intake, exactly as `recommend` gives it, without
    ranking the rest of the catalogue (a planned session is checked this way on its own
    day); None when the catalogue has no active treatment with that code."""
    treatment = active_treatment(catalogue, code)
    if treatment is None:
        return None
    facts = treatment_normalised(treatment, intake, catalogue, normalise(intake, catalogue))
    severities, _notes = skin_type_concerns(intake, concern_severities(intake))
    return evaluate(treatment, intake, facts.conditions, severities, catalogue, facts.until)


# -- A planned course: each session checked on its own day -------------------------------

@dataclass(frozen=True)
class CourseCheck:
    """A course of one treatment checked session by session: a flag from a date applies to
    the sessions inside its window only."""

    code: str
    sessions: tuple  # ((day, TreatmentResult), ...) in date order
    possible_from: date | None  # the first day from `start` it may be given; None: ruled out
    too_soon: tuple = ()  # ((day, first allowed day), ...) sessions inside the minimum interval
    minimum_interval: tuple | None = None  # the treatment's (length, unit), if it has one

    @property
    def flags(self):
        """Every flag any session carries, each (code and severity) once, earliest first."""
        seen, flags = set(), []
        for _day, result in self.sessions:
            for flag in result.flags:
                if (flag.code, flag.severity) not in seen:
                    seen.add((flag.code, flag.severity))
                    flags.append(flag)
        return tuple(flags)

    @property
    def refused(self):
        """The sessions that fall on a day the treatment is ruled out."""
        return tuple((day, result) for day, result in self.sessions if result.excluded)


def check_course(intake, catalogue, code, days, start):
    """Check a course of treatment `code` given on `days` (undated: a session on `start`),
    and find the first day from `start` on which it may be given at all. None when the
    treatment is not active. A session sooner after the one before than the treatment's
    minimum interval is listed in `too_soon` with the first day it could be given."""
    treatment = active_treatment(catalogue, code)
    opening = assess(replace(intake, as_of=start), catalogue, code)
    if opening is None:
        return None
    days = sorted(set(days)) or [start]
    sessions = tuple((day, opening if day == start else
                      assess(replace(intake, as_of=day), catalogue, code)) for day in days)
    allowed = ((later, earliest_repeat(treatment, earlier))
               for earlier, later in zip(days, days[1:]))
    too_soon = tuple((day, first) for day, first in allowed if first and day < first)
    possible_from = (start if not opening.excluded else opening.suitable_from)
    return CourseCheck(code=code, sessions=sessions, possible_from=possible_from,
                       too_soon=too_soon, minimum_interval=treatment.minimum_interval)
