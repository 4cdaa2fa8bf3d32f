"""Reading an intake given as JSON (the `recommend` command's input, see its help) into the
engine's Intake, refusing anything malformed with a message that names the field."""

import datetime
import json
import math

from treatments.engine import (
    ACNE_SCAR_SUBTYPES,
    ANSWERS,
    DATED_NEVER,
    DATED_ON,
    DATED_ONGOING,
    DEFAULT_SEVERITY,
    PHOTOTYPES,
    SEVERITIES,
    SKIN_TYPES,
    TREATMENT_AREAS,
    UNKNOWN_PHOTOTYPE,
    Intake,
)

FIELDS = {"fitzpatrick", "concerns", "conditions", "pregnancy_answer", "treatment_area",
          "acne_scar_subtypes", "skin_type", "dated_answers", "as_of"}

# What one call may carry. An intake is a few hundred bytes nested four levels deep (array,
# intake, concerns, concern), so these are far beyond any real use and keep a mistaken or
# hostile input from costing memory, time or a crash instead of one line of refusal.
MAX_INPUT_BYTES = 1_000_000
MAX_INTAKES = 1_000
MAX_NESTING = 20
MAX_NUMBER_DIGITS = 20
# Dates a clinic can mean: a patient's history and a day of treatment, never the calendar's
# ends, where working out a time window would run off the calendar.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)
# How much of an offending value a message quotes, so that it stays one readable line.
ECHO_CHARACTERS = 80


class IntakeInputError(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


def echoed(value):
    """The offending value as an error message quotes it: its repr, cut to ECHO_CHARACTERS
    with an ellipsis."""
    text = repr(value)
    return text if len(text) <= ECHO_CHARACTERS else text[:ECHO_CHARACTERS - 1] + "…"


class UnusableNumber:
    """A number in the input that no field can mean (NaN, an infinity, a float beyond the
    float range, an integer of more than MAX_NUMBER_DIGITS digits). It stands in the decoded
    data for the field that holds it to refuse, by name, like any other wrong value."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _integer(text):
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        return UnusableNumber(text)
    return int(text)


def _float(text):
    number = float(text)
    return number if math.isfinite(number) else UnusableNumber(text)


def _deeper_than(data, levels):
    """True when the decoded data holds arrays or objects nested more than `levels` deep."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > levels:
            return True
        pending.extend((item, depth + 1) for item in value)
    return False


def decoded_input(raw):
    """The intake object, or array of intake objects, that the bytes `raw` hold."""
    if len(raw) > MAX_INPUT_BYTES:
        raise IntakeInputError("input", f"more than the {MAX_INPUT_BYTES:,} bytes a call may "
                                        "carry")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise IntakeInputError("input", f"not UTF-8 text ({error.reason} at byte "
                                        f"{error.start})") from None
    if not text.strip():
        raise IntakeInputError("input", "empty, expected an intake object or an array of them")
    too_deep = IntakeInputError("input", f"arrays or objects nested more than {MAX_NESTING} "
                                         "deep")
    try:
        data = json.loads(text, parse_int=_integer, parse_float=_float,
                          parse_constant=UnusableNumber)
    except json.JSONDecodeError as error:
        raise IntakeInputError("input", f"not valid JSON ({error})") from None
    except RecursionError:
        raise too_deep from None
    if _deeper_than(data, MAX_NESTING):
        raise too_deep
    if not isinstance(data, (dict, list)):
        raise IntakeInputError("input", "expected an intake object or an array of them, "
                                        f"got {echoed(data)}")
    if isinstance(data, list) and len(data) > MAX_INTAKES:
        raise IntakeInputError("input", f"{len(data):,} intakes, more than the "
                                        f"{MAX_INTAKES:,} a call may carry")
    return data


def _choice(value, field, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise IntakeInputError(field, f"{echoed(value)} is not one of {', '.join(allowed)}")
    return value


def _list(value, field):
    if not isinstance(value, list):
        raise IntakeInputError(field, f"expected a list, got {echoed(value)}")
    return value


def _phototype(value, field):
    if isinstance(value, bool):
        raise IntakeInputError(field, f"{echoed(value)} is not a phototype")
    if isinstance(value, int) and 1 <= value <= 6:
        return PHOTOTYPES[value - 1]
    if isinstance(value, str) and (value in PHOTOTYPES or value == UNKNOWN_PHOTOTYPE):
        return value
    raise IntakeInputError(field, f"{echoed(value)} is not a phototype (I to VI, 1 to 6, or "
                                   "unknown)")


def _date(value, field):
    if isinstance(value, str):
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if not EARLIEST_DATE <= day <= LATEST_DATE:
                raise IntakeInputError(field, f"{echoed(value)} is not between "
                                              f"{EARLIEST_DATE} and {LATEST_DATE}")
            return day
    raise IntakeInputError(field, f"{echoed(value)} is not a date (YYYY-MM-DD)")


def _dated_answers(value, field, catalogue):
    if not isinstance(value, dict):
        raise IntakeInputError(field, "expected an object of question codes, got "
                                      f"{echoed(value)}")
    answers = []
    for code, answer in value.items():
        facts = catalogue.dated_questions.get(code)
        if facts is None:
            raise IntakeInputError(field, f"unknown dated question code {echoed(code)}")
        where = f"{field}.{code}"
        if answer == DATED_NEVER:
            answers.append((code, DATED_NEVER, None))
        elif answer == DATED_ONGOING:
            if not facts.ongoing_condition:
                raise IntakeInputError(where,
                                       f"{DATED_ONGOING!r} is not an answer to this question")
            answers.append((code, DATED_ONGOING, None))
        else:
            answers.append((code, DATED_ON, _date(answer, where)))
    return tuple(answers)


def intake_from_json(data, catalogue, where="", today=None):
    """An Intake from one decoded JSON object, checked against the catalogue's codes."""
    intake = where.rstrip(".") or "intake"
    if not isinstance(data, dict):
        raise IntakeInputError(intake, f"expected an intake object, got {echoed(data)}")
    for key in data:
        if key not in FIELDS:
            raise IntakeInputError(intake, f"unknown field {echoed(key)}")

    concerns = []
    for index, item in enumerate(_list(data.get("concerns", []), f"{where}concerns")):
        field = f"{where}concerns[{index}]"
        if isinstance(item, dict):
            extra = set(item) - {"code", "severity"}
            if extra:
                raise IntakeInputError(field, f"unknown field {echoed(sorted(extra)[0])}")
            code, severity = item.get("code"), item.get("severity", DEFAULT_SEVERITY)
            _choice(severity, f"{field}.severity", SEVERITIES)
        else:
            code, severity = item, DEFAULT_SEVERITY
        if not isinstance(code, str) or code not in catalogue.concerns:
            raise IntakeInputError(field, f"unknown concern code {echoed(code)}")
        concerns.append((code, severity))

    conditions = set()
    for index, code in enumerate(_list(data.get("conditions", []), f"{where}conditions")):
        if not isinstance(code, str) or code not in catalogue.conditions:
            raise IntakeInputError(f"{where}conditions[{index}]",
                                   f"unknown condition code {echoed(code)}")
        conditions.add(code)

    subtypes = tuple(
        _choice(value, f"{where}acne_scar_subtypes[{index}]", ACNE_SCAR_SUBTYPES)
        for index, value in enumerate(_list(data.get("acne_scar_subtypes", []),
                                            f"{where}acne_scar_subtypes"))
    )
    as_of = _date(data["as_of"], f"{where}as_of") if "as_of" in data else (
        today or datetime.date.today())
    dated = _dated_answers(data.get("dated_answers", {}), f"{where}dated_answers", catalogue)
    for code, answer, when in dated:
        if answer == DATED_ON and when > as_of:
            raise IntakeInputError(f"{where}dated_answers.{code}",
                                   f"{when.isoformat()} is after as_of ({as_of.isoformat()})")
    return Intake(
        dated_answers=dated,
        as_of=as_of,
        fitzpatrick=(_phototype(data["fitzpatrick"], f"{where}fitzpatrick")
                     if "fitzpatrick" in data else UNKNOWN_PHOTOTYPE),
        concerns=tuple(concerns),
        conditions=frozenset(conditions),
        pregnancy_answer=(_choice(data["pregnancy_answer"], f"{where}pregnancy_answer",
                                  ANSWERS) if "pregnancy_answer" in data else ""),
        treatment_area=(_choice(data["treatment_area"], f"{where}treatment_area",
                                TREATMENT_AREAS) if "treatment_area" in data else ""),
        acne_scar_subtypes=subtypes,
        skin_type=(_choice(data["skin_type"], f"{where}skin_type", SKIN_TYPES)
                   if "skin_type" in data else ""),
    )


def requirement_json(step):
    """A pre-treatment step as the command prints it: a step swapped in for one unsafe for
    this patient names the one it replaces and why; a step with no safer alternative lists
    the conditions it is unsafe for."""
    item = {"code": step.code, "strength": step.strength,
            "reason": f"{step.label} ({step.reason})" + (f": {step.timing}" if step.timing else "")}
    if step.replaces:
        item["replaces"] = step.replaces
        item["replaced_because"] = [{"condition": c.condition, "reason": c.rationale}
                                    for c in step.replaced_because]
    if step.unsafe_for:
        item["unsafe_for"] = [{"condition": c.condition, "reason": c.rationale,
                               "basis": c.basis, "confidence": c.confidence,
                               "sources": list(c.sources)} for c in step.unsafe_for]
    return item


def recommendation_json(recommendation):
    """The engine's result in the command's documented output shape."""
    treatments = {}
    for result in recommendation.treatments:
        treatments[result.code] = {
            "name": result.name,
            "indicated": result.indicated,
            "matched_concerns": [{"concern": concern, "strength": strength}
                                 for concern, strength, _severity, _contested
                                 in result.matched_concerns],
            "not_indicated_for": [concern for concern, _reason in result.not_indicated_for],
            "excluded": result.excluded,
            "flags": [{"code": flag.code, "severity": flag.severity,
                       "reason": f"{flag.reason} {flag.scope}".strip(),
                       "basis": flag.basis, "confidence": flag.confidence,
                       "sources": list(flag.sources),
                       "until": flag.until.isoformat() if flag.until else None}
                      for flag in result.flags],
            "suitable_from": (result.suitable_from.isoformat() if result.suitable_from
                              else None),
            "requirements": [requirement_json(step) for step in result.requirements],
            "fitzpatrick": result.fitzpatrick,
            "pih_risk": result.pih_risk,
            "referral": result.referral,
            "score": result.score.total,
            "unreviewed": list(result.unreviewed),
        }
    return {
        "conditions": sorted(recommendation.conditions),
        "notes": [f"{note.policy}: {note.message}" for note in recommendation.notes],
        # The contract's list: indicated and not excluded, best first, refer-out options
        # included (each marked "referral"); the page shows those apart.
        "recommended": [result.code for result in recommendation.treatments
                        if result.suitable],
        "no_suitable_option": recommendation.no_suitable_option,
        "treatments": treatments,
    }
