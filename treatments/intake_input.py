"""Reading an intake given as JSON (the `recommend` command's input, see its help) into the
engine's Intake, refusing anything malformed with a message that names the field."""

import datetime

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


class IntakeInputError(ValueError):
    def __init__(self, field, message):
        super().__init__(f"{field}: {message}")
        self.field = field


def _choice(value, field, allowed):
    if not isinstance(value, str) or value not in allowed:
        raise IntakeInputError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _list(value, field):
    if not isinstance(value, list):
        raise IntakeInputError(field, f"expected a list, got {value!r}")
    return value


def _phototype(value, field):
    if isinstance(value, bool):
        raise IntakeInputError(field, f"{value!r} is not a phototype")
    if isinstance(value, int) and 1 <= value <= 6:
        return PHOTOTYPES[value - 1]
    if isinstance(value, str) and (value in PHOTOTYPES or value == UNKNOWN_PHOTOTYPE):
        return value
    raise IntakeInputError(field, f"{value!r} is not a phototype (I to VI, 1 to 6, or unknown)")


def _date(value, field):
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise IntakeInputError(field, f"{value!r} is not a date (YYYY-MM-DD)")


def _dated_answers(value, field, catalogue):
    if not isinstance(value, dict):
        raise IntakeInputError(field, f"expected an object of question codes, got {value!r}")
    answers = []
    for code, answer in value.items():
        facts = catalogue.dated_questions.get(code)
        where = f"{field}.{code}"
        if facts is None:
            raise IntakeInputError(where, f"unknown dated question code {code!r}")
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
    if not isinstance(data, dict):
        raise IntakeInputError(where or "intake", f"expected an object, got {data!r}")
    for key in data:
        if key not in FIELDS:
            raise IntakeInputError(f"{where}{key}", "unknown field")

    concerns = []
    for index, item in enumerate(_list(data.get("concerns", []), f"{where}concerns")):
        field = f"{where}concerns[{index}]"
        if isinstance(item, dict):
            extra = set(item) - {"code", "severity"}
            if extra:
                raise IntakeInputError(f"{field}.{sorted(extra)[0]}", "unknown field")
            code, severity = item.get("code"), item.get("severity", DEFAULT_SEVERITY)
            _choice(severity, f"{field}.severity", SEVERITIES)
        else:
            code, severity = item, DEFAULT_SEVERITY
        if not isinstance(code, str) or code not in catalogue.concerns:
            raise IntakeInputError(field, f"unknown concern code {code!r}")
        concerns.append((code, severity))

    conditions = set()
    for index, code in enumerate(_list(data.get("conditions", []), f"{where}conditions")):
        if not isinstance(code, str) or code not in catalogue.conditions:
            raise IntakeInputError(f"{where}conditions[{index}]",
                                   f"unknown condition code {code!r}")
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
