"""Turning what the intake recorded into what the engine reads.

The questionnaire's questions are worded here; scoring them, the time windows and the
reading of 'unsure' are the engine's. `intake_from_consultation` adapts a saved consultation
(with its answers prefetched) into the engine's Intake: rows into plain values.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from treatments.engine import FITZPATRICK_KEYS, PREGNANCY, UNKNOWN_PHOTOTYPE, Intake

# The Fitzpatrick skin-type questionnaire: ten questions, each answer scored 0 to 4.
FITZPATRICK_QUESTIONS = [
    ("eyes", _("Eye colour"), [
        _("Light blue, light grey or light green"), _("Blue, grey or green"), _("Blue"),
        _("Dark brown"), _("Brownish black")]),
    ("hair", _("Natural hair colour"), [
        _("Sandy red"), _("Blond"), _("Chestnut or dark blond"), _("Dark brown"), _("Black")]),
    ("skin", _("Skin colour where it never sees the sun"), [
        _("Reddish"), _("Very pale"), _("Pale with a beige tint"), _("Light brown"),
        _("Dark brown")]),
    ("freckles", _("Freckles where the skin never sees the sun"), [
        _("Many"), _("Several"), _("A few"), _("Hardly any"), _("None")]),
    ("burn", _("After too long in the sun, the skin"), [
        _("Goes painfully red, blisters and peels"), _("Blisters, then peels"),
        _("Sometimes burns, then peels"), _("Rarely burns"), _("Has never burnt")]),
    ("tan_depth", _("How brown the skin turns"), [
        _("Hardly or not at all"), _("A light tan"), _("A reasonable tan"),
        _("Tans very easily"), _("Turns dark brown quickly")]),
    ("tan_speed", _("Turns brown within hours of sun"), [
        _("Never"), _("Seldom"), _("Sometimes"), _("Often"), _("Always")]),
    ("face", _("How the face reacts to sun"), [
        _("Very sensitive"), _("Sensitive"), _("Normal"), _("Very resistant"),
        _("Never a problem")]),
    ("last_exposure", _("Last time the body was tanned (sun, sunbed or tanning cream)"), [
        _("More than 3 months ago"), _("2 to 3 months ago"), _("1 to 2 months ago"),
        _("Less than a month ago"), _("Less than 2 weeks ago")]),
    ("face_exposure", _("How often the face is exposed to the sun"), [
        _("Never"), _("Hardly ever"), _("Sometimes"), _("Often"), _("Always")]),
]

@dataclass(frozen=True)
class IntakeCatalogue:
    """The catalogue the intake form is built from: what it asks and how answers map."""

    concerns: list
    conditions: list  # conditions asked as yes/no, in intake order
    dated_questions: list


def intake_from_consultation(consultation, as_of=None):
    """The engine's Intake for a saved consultation (answers already prefetched), for
    treatment on `as_of` (by default the consultation's date). The dated answers go to the
    engine as recorded: it derives the time-window conditions itself."""
    conditions, unsure = set(), set()
    pregnancy_answer = ""
    for answer in consultation.condition_answers.all():
        code = answer.condition.code
        if code == PREGNANCY:
            # Pregnancy goes to the engine as its answer, so its 'unsure' policy can apply.
            pregnancy_answer = answer.answer
        elif answer.answer == "yes":
            conditions.add(code)
        elif answer.answer == "unsure":
            unsure.add(code)
    return Intake(
        fitzpatrick=consultation.fitzpatrick or UNKNOWN_PHOTOTYPE,
        concerns=tuple((c.concern.code, c.severity) for c in consultation.concerns.all()),
        conditions=frozenset(conditions),
        pregnancy_answer=pregnancy_answer,
        treatment_area=consultation.treatment_area,
        acne_scar_subtypes=tuple(consultation.acne_scar_subtypes or ()),
        skin_type=consultation.skin_type,
        no_medications=consultation.no_medications,
        questionnaire_answers=tuple((key, score)
                                    for key, score in (consultation.questionnaire or {}).items()
                                    if key in FITZPATRICK_KEYS),
        unsure_conditions=frozenset(unsure),
        dated_answers=tuple((a.question.code, a.answer, a.date)
                            for a in consultation.dated_answers.all()),
        as_of=as_of or consultation.consultation_date,
        date_of_birth=consultation.patient.date_of_birth,
    )
