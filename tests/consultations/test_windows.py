"""Time windows: conditions such as 'isotretinoin in the last 6 months' come from dates,
relative to the day of treatment, and lapse on a day the engine names. No database."""

import datetime

import pytest

from consultations.intake import FITZPATRICK_QUESTIONS
from treatments.engine import (
    FITZPATRICK_KEYS,
    questionnaire_phototype,
    CatalogueSnapshot,
    DatedQuestionFacts,
    Intake,
    window_lapses,
    window_start,
    within_window,
)
from treatments.engine import dated_conditions as engine_dated_conditions

CONSULTATION = datetime.date(2026, 11, 21)
ISOTRETINOIN = DatedQuestionFacts(
    code="isotretinoin_last_dose", ongoing_condition="isotretinoin_current",
    windows=(("isotretinoin_6m", 6, "months"), ("isotretinoin_12m", 12, "months")))
TAN = DatedQuestionFacts(code="last_tan", windows=(("recent_tan", 6, "weeks"),))
FILLER = DatedQuestionFacts(code="last_filler_in_area",
                            windows=(("recent_filler_in_area", 14, "days"),))
QUESTIONS = {q.code: q for q in (ISOTRETINOIN, TAN, FILLER)}


def dated_conditions(on, answers, questions):
    """The conditions the answers give on `on` (the engine's derivation, codes only)."""
    intake = Intake(dated_answers=tuple((code, answer, when)
                                        for code, (answer, when) in answers.items()), as_of=on)
    return set(engine_dated_conditions(intake, CatalogueSnapshot(dated_questions=questions)))


class TestLapses:
    """A window's condition applies on its first and last day; it lapses the day after."""

    @pytest.mark.parametrize("when, length, unit, lapses", [
        (datetime.date(2026, 9, 1), 6, "months", datetime.date(2027, 3, 2)),
        (datetime.date(2026, 11, 1), 6, "weeks", datetime.date(2026, 12, 14)),
        (datetime.date(2026, 11, 20), 14, "days", datetime.date(2026, 12, 5)),
        (datetime.date(2026, 8, 31), 6, "months", datetime.date(2027, 3, 1)),  # no 31 Feb
        (datetime.date(2027, 8, 31), 6, "months", datetime.date(2028, 3, 1)),  # leap year
    ])
    def test_the_first_day_it_no_longer_applies(self, when, length, unit, lapses):
        assert window_lapses(when, length, unit) == lapses
        last_day = lapses - datetime.timedelta(days=1)
        assert within_window(when, last_day, length, unit)
        assert not within_window(when, lapses, length, unit)

    def test_each_date_derived_condition_carries_its_lapse(self):
        intake = Intake(dated_answers=(("isotretinoin_last_dose", "date",
                                        datetime.date(2026, 9, 1)),),
                        as_of=datetime.date(2026, 12, 1))

        derived = engine_dated_conditions(intake, CatalogueSnapshot(dated_questions=QUESTIONS))

        assert derived == {"isotretinoin_6m": datetime.date(2027, 3, 2),
                           "isotretinoin_12m": datetime.date(2027, 9, 2)}

    def test_an_ongoing_answer_never_lapses(self):
        intake = Intake(dated_answers=(("isotretinoin_last_dose", "ongoing", None),),
                        as_of=datetime.date(2026, 12, 1))

        assert engine_dated_conditions(intake, CatalogueSnapshot(
            dated_questions=QUESTIONS)) == {"isotretinoin_current": None}


class TestSixMonthWindowAtItsEdge:
    """Six months before 21 November 2026 is 21 May 2026: that day is inside the window."""

    def test_the_boundary_is_six_calendar_months_back(self):
        assert window_start(CONSULTATION, 6, "months") == datetime.date(2026, 5, 21)

    @pytest.mark.parametrize("last_dose, expected", [
        (datetime.date(2026, 5, 20), {"isotretinoin_12m"}),                     # day before
        (datetime.date(2026, 5, 21), {"isotretinoin_6m", "isotretinoin_12m"}),  # the day
        (datetime.date(2026, 5, 22), {"isotretinoin_6m", "isotretinoin_12m"}),  # day after
    ])
    def test_a_last_dose_around_the_boundary(self, last_dose, expected):
        answers = {"isotretinoin_last_dose": ("date", last_dose)}

        assert dated_conditions(CONSULTATION, answers, QUESTIONS) == expected


@pytest.mark.parametrize("last_tan, recent", [
    (datetime.date(2026, 10, 9), False),   # 6 weeks and a day
    (datetime.date(2026, 10, 10), True),   # exactly 6 weeks
    (datetime.date(2026, 11, 21), True),   # today
])
def test_a_tan_within_six_weeks_is_recent(last_tan, recent):
    conditions = dated_conditions(CONSULTATION, {"last_tan": ("date", last_tan)}, QUESTIONS)

    assert ("recent_tan" in conditions) is recent


@pytest.mark.parametrize("filler, recent", [
    (datetime.date(2026, 11, 6), False),
    (datetime.date(2026, 11, 7), True),
])
def test_filler_within_fourteen_days_is_recent(filler, recent):
    conditions = dated_conditions(CONSULTATION, {"last_filler_in_area": ("date", filler)},
                                  QUESTIONS)

    assert ("recent_filler_in_area" in conditions) is recent


def test_still_taking_gives_the_current_condition():
    answers = {"isotretinoin_last_dose": ("ongoing", None)}

    assert dated_conditions(CONSULTATION, answers, QUESTIONS) == {"isotretinoin_current"}


def test_never_gives_nothing():
    answers = {code: ("never", None) for code in QUESTIONS}

    assert dated_conditions(CONSULTATION, answers, QUESTIONS) == set()


def test_a_question_no_longer_in_the_catalogue_is_ignored():
    answers = {"retired_question": ("date", CONSULTATION)}

    assert dated_conditions(CONSULTATION, answers, QUESTIONS) == set()


@pytest.mark.parametrize("on, months, start", [
    (datetime.date(2026, 8, 31), 6, datetime.date(2026, 2, 28)),   # no 31 February
    (datetime.date(2028, 8, 31), 6, datetime.date(2028, 2, 29)),   # leap year
    (datetime.date(2026, 1, 15), 12, datetime.date(2025, 1, 15)),
    (datetime.date(2026, 3, 31), 1, datetime.date(2026, 2, 28)),
])
def test_months_are_calendar_months(on, months, start):
    assert window_start(on, months, "months") == start


def test_a_date_after_the_consultation_is_not_within_the_window():
    assert not within_window(CONSULTATION + datetime.timedelta(days=1), CONSULTATION, 6, "weeks")


class TestFitzpatrickQuestionnaire:
    KEYS = ["eyes", "hair", "skin", "freckles", "burn", "tan_depth", "tan_speed", "face",
            "last_exposure", "face_exposure"]

    @pytest.mark.parametrize("scores, phototype", [
        ([0] * 10, "I"),
        ([1] * 6 + [0] * 4, "I"),              # 6
        ([1] * 7 + [0] * 3, "II"),             # 7
        ([2] * 10, "III"),                     # 20
        ([3] * 7 + [0] * 3, "IV"),             # 21
        ([3] * 9 + [1], "V"),                  # 28
        ([4] * 9 + [0], "VI"),                 # 36
        ([4] * 10, "VI"),                      # 40
    ])
    def test_the_total_score_gives_the_type(self, scores, phototype):
        assert questionnaire_phototype(dict(zip(self.KEYS, scores))) == phototype

    def test_the_form_asks_exactly_the_questions_the_engine_scores(self):
        assert tuple(key for key, _label, _choices in FITZPATRICK_QUESTIONS) == \
            FITZPATRICK_KEYS == tuple(self.KEYS)

    def test_an_unfinished_questionnaire_gives_no_type(self):
        assert questionnaire_phototype(dict(zip(self.KEYS[:9], [2] * 9))) == ""
