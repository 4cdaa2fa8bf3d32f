"""One vocabulary: the codes an intake is written in are the engine's (treatments.engine), and
the models' choices, the intake form and the command's input list exactly those codes, so a
code added or renamed in one place cannot go unnoticed in another."""

import pytest
from django.template.loader import render_to_string

from consultations.forms import SCAR_SUBTYPES
from consultations.models import (
    PHOTOTYPE_CHOICES,
    ConditionAnswer,
    Consultation,
    ConsultationConcern,
    DatedAnswer,
)
from treatments import engine
from treatments.intake_input import IntakeInputError, intake_from_json
from treatments.models import Phototype, PreTreatmentRequirement, TreatmentArea
from treatments.selectors import catalogue_labels

NO_CATALOGUE = engine.CatalogueSnapshot()


@pytest.mark.parametrize("choices, codes", [
    (Phototype.values, engine.PHOTOTYPES),
    ([code for code, _label in PHOTOTYPE_CHOICES],
     [*engine.PHOTOTYPES, engine.UNKNOWN_PHOTOTYPE]),
    (PreTreatmentRequirement._meta.get_field("phototype_from").choices,
     Phototype.choices),
    (Consultation.SkinType.values, engine.SKIN_TYPES),
    (Consultation._meta.get_field("treatment_area").choices, TreatmentArea.choices),
    (TreatmentArea.values, engine.TREATMENT_AREAS),
    (ConsultationConcern.Severity.values, engine.SEVERITIES),
    (ConditionAnswer.Answer.values, engine.ANSWERS),
    (DatedAnswer.Answer.values, engine.DATED_ANSWER_KINDS),
    ([code for code, _label in SCAR_SUBTYPES], engine.ACNE_SCAR_SUBTYPES),
], ids=["phototype", "intake phototype", "step phototype", "skin type", "intake area",
        "treatment area", "severity", "answer", "dated answer", "scar subtype"])
def test_the_choices_list_exactly_the_engines_codes(choices, codes):
    assert list(choices) == list(codes)


def test_the_engines_own_tables_speak_its_vocabulary():
    assert engine.SENSITIVE_SKIN_TYPE in engine.SKIN_TYPES
    assert set(engine.LIGHT_PHOTOTYPES) <= set(engine.PHOTOTYPES)
    assert set(engine.CONSERVATIVE_PHOTOTYPES) <= set(engine.PHOTOTYPES)
    assert engine.UNKNOWN_PHOTOTYPE not in engine.PHOTOTYPES
    assert tuple(engine.TARGET_DEPTH) == engine.SEVERITIES
    assert engine.DEFAULT_SEVERITY in engine.SEVERITIES


@pytest.mark.parametrize("field, codes", [
    ("skin_type", engine.SKIN_TYPES),
    ("treatment_area", engine.TREATMENT_AREAS),
    ("pregnancy_answer", engine.ANSWERS),
    ("fitzpatrick", [*engine.PHOTOTYPES, engine.UNKNOWN_PHOTOTYPE]),
])
def test_the_command_accepts_the_engines_codes_and_no_other(field, codes):
    for code in codes:
        assert getattr(intake_from_json({field: code}, NO_CATALOGUE), field) == code
    with pytest.raises(IntakeInputError) as refused:
        intake_from_json({field: "not_a_code"}, NO_CATALOGUE)
    assert refused.value.field == field


def test_the_command_accepts_each_severity_and_scar_subtype():
    catalogue = engine.CatalogueSnapshot(concerns=frozenset({"acne_scars"}))
    for severity in engine.SEVERITIES:
        intake = intake_from_json({"concerns": [{"code": "acne_scars", "severity": severity}]},
                                  catalogue)
        assert intake.concerns == (("acne_scars", severity),)
    intake = intake_from_json({"acne_scar_subtypes": list(engine.ACNE_SCAR_SUBTYPES)},
                              catalogue)
    assert intake.acne_scar_subtypes == engine.ACNE_SCAR_SUBTYPES


@pytest.mark.django_db
def test_a_phototype_flag_is_labelled_by_its_code_not_by_a_condition():
    flag = engine.Flag(engine.PHOTOTYPE_FLAG, "relative", "Type IV needs caution.")

    html = render_to_string("consultations/_flag.html",
                            {"flag": flag, "labels": catalogue_labels(), "sources": {}})

    assert "<strong>Fitzpatrick phototype</strong>" in html
    assert "Type IV needs caution." in html
