"""Contraindications that know their dates: the engine derives time-window conditions from
the answers as recorded and the day of treatment, and says when each such flag lapses.
Plain data in, plain data out."""

import datetime
from dataclasses import replace

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    DatedQuestionFacts,
    Intake,
    PolicyFacts,
    RuleFacts,
    TreatmentFacts,
    assess,
    check_course,
    normalise,
    recommend,
)

ALL = ("I", "II", "III", "IV", "V", "VI")
DAY = datetime.date(2026, 12, 1)
QUESTIONS = {
    "isotretinoin_last_dose": DatedQuestionFacts(
        "isotretinoin_last_dose", "isotretinoin_current",
        (("isotretinoin_6m", 6, "months"), ("isotretinoin_12m", 12, "months"))),
    "last_tan": DatedQuestionFacts("last_tan", "", (("recent_tan", 6, "weeks"),)),
}
CONDITIONS = {code: ConditionFacts(code, "medical") for code in [
    "isotretinoin_6m", "isotretinoin_12m", "recent_tan", "pregnancy", "keloid_tendency"]}
CONDITIONS["isotretinoin_current"] = ConditionFacts(
    "isotretinoin_current", "medication", ("isotretinoin_6m", "isotretinoin_12m"))


def rule(condition, severity):
    return RuleFacts(condition, severity, f"{condition} matters", "guideline", "high", ("S",))


LASER = TreatmentFacts(
    code="LASER", name="Laser", depth_rank=2, indications=(("acne_scars", "primary", False),),
    suitable=frozenset(ALL), pih_risk={t: "low" for t in ALL},
    rules={"isotretinoin_6m": rule("isotretinoin_6m", "absolute"),
           "isotretinoin_12m": rule("isotretinoin_12m", "relative"),
           "recent_tan": rule("recent_tan", "absolute"),
           "keloid_tendency": rule("keloid_tendency", "absolute"),
           "pregnancy": rule("pregnancy", "absolute")})


def catalogue(policies=("pregnancy_unsure",)):
    return CatalogueSnapshot(conditions=CONDITIONS, treatments=(LASER,),
                             concerns=frozenset({"acne_scars"}), dated_questions=QUESTIONS,
                             policies=tuple(PolicyFacts(code, code, "") for code in policies))


def laser(as_of=DAY, policies=("pregnancy_unsure",), **intake):
    recommendation = recommend(Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),),
                                      as_of=as_of, **intake), catalogue(policies))
    return recommendation, recommendation.treatments[0]


LAST_DOSE_SEPT = (("isotretinoin_last_dose", "date", datetime.date(2026, 9, 1)),)


class TestFlagsThatLapse:
    def test_a_flag_from_a_date_says_the_day_it_lapses(self):
        _rec, result = laser(dated_answers=LAST_DOSE_SEPT)

        flags = {flag.code: (flag.severity, flag.until) for flag in result.flags}
        assert flags == {"isotretinoin_6m": ("absolute", datetime.date(2027, 3, 2)),
                         "isotretinoin_12m": ("relative", datetime.date(2027, 9, 2))}

    def test_an_exclusion_made_only_of_dated_flags_says_when_it_becomes_possible(self):
        _rec, result = laser(dated_answers=LAST_DOSE_SEPT)

        assert result.excluded
        assert result.suitable_from == datetime.date(2027, 3, 2)

    def test_with_several_dated_exclusions_the_latest_lapse_counts(self):
        tan = (("last_tan", "date", datetime.date(2026, 11, 30)),)
        _rec, result = laser(dated_answers=LAST_DOSE_SEPT + tan)

        assert result.suitable_from == datetime.date(2027, 3, 2)
        assert {f.code: f.until for f in result.flags}["recent_tan"] == \
            datetime.date(2027, 1, 12)

    def test_an_exclusion_that_lasts_has_no_date_from_which_it_is_possible(self):
        _rec, result = laser(dated_answers=LAST_DOSE_SEPT,
                             conditions=frozenset({"keloid_tendency"}))

        assert result.excluded and result.suitable_from is None

    def test_on_the_day_it_lapses_the_flag_is_gone(self):
        _rec, result = laser(as_of=datetime.date(2027, 3, 2), dated_answers=LAST_DOSE_SEPT)

        assert [f.code for f in result.flags] == ["isotretinoin_12m"]
        assert not result.excluded and result.suitable_from is None

    def test_on_its_last_day_the_flag_still_applies(self):
        _rec, result = laser(as_of=datetime.date(2027, 3, 1), dated_answers=LAST_DOSE_SEPT)

        assert result.excluded

    def test_still_taking_it_never_lapses(self):
        _rec, result = laser(dated_answers=(("isotretinoin_last_dose", "ongoing", None),))

        assert {f.code: f.until for f in result.flags} == {"isotretinoin_6m": None,
                                                           "isotretinoin_12m": None}
        assert result.suitable_from is None

    def test_a_condition_given_outright_never_lapses_even_with_a_date(self):
        _rec, result = laser(dated_answers=LAST_DOSE_SEPT,
                             conditions=frozenset({"isotretinoin_6m"}))

        assert {f.code: f.until for f in result.flags}["isotretinoin_6m"] is None


class TestUnsureIsNeverNo:
    def test_unsure_about_pregnancy_is_read_as_pregnant_under_the_policy(self):
        rec, result = laser(pregnancy_answer="unsure")

        assert "pregnancy" in rec.conditions and result.excluded
        assert [n.policy for n in rec.notes] == ["pregnancy_unsure"]

    def test_with_the_policy_switched_off_the_cautious_reading_still_applies(self):
        rec, result = laser(pregnancy_answer="unsure", policies=())

        assert "pregnancy" in rec.conditions and result.excluded
        (note,) = rec.notes
        assert "switched off" in note.message and "cautious" in note.message


def test_unsure_about_any_other_condition_is_read_as_present_and_said():
    rec, result = laser(unsure_conditions=frozenset({"keloid_tendency"}))

    assert "keloid_tendency" in rec.conditions and result.excluded
    assert any(n.policy == "unsure_answers" and "keloid_tendency" in n.message
               for n in rec.notes)


class TestACourseCheckedSessionBySession:
    INTAKE = Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),),
                    dated_answers=LAST_DOSE_SEPT)

    def course(self, *days, start=DAY):
        return check_course(self.INTAKE, catalogue(), "LASER", days, start)

    def test_a_session_inside_a_window_carries_its_flag_and_one_after_it_does_not(self):
        check = self.course(datetime.date(2027, 3, 1), datetime.date(2027, 3, 2))

        (inside, first), (after, second) = check.sessions
        assert {f.code for f in first.flags} == {"isotretinoin_6m", "isotretinoin_12m"}
        assert {f.code for f in second.flags} == {"isotretinoin_12m"}
        assert [day for day, _result in check.refused] == [datetime.date(2027, 3, 1)]

    def test_the_course_flags_list_each_flag_once_as_the_first_session_has_it(self):
        check = self.course(datetime.date(2027, 1, 5), datetime.date(2027, 2, 5))

        assert [(f.code, f.severity) for f in check.flags] == [
            ("isotretinoin_6m", "absolute"), ("isotretinoin_12m", "relative")]

    def test_the_first_possible_day_is_the_start_when_nothing_rules_it_out(self):
        check = self.course(start=datetime.date(2027, 6, 1))

        assert check.possible_from == datetime.date(2027, 6, 1)
        assert [day for day, _result in check.sessions] == [datetime.date(2027, 6, 1)]

    def test_the_first_possible_day_is_when_the_last_dated_exclusion_lapses(self):
        assert self.course().possible_from == datetime.date(2027, 3, 2)

    def test_an_exclusion_not_from_a_date_has_no_first_possible_day(self):
        intake = replace(self.INTAKE, conditions=frozenset({"keloid_tendency"}))

        check = check_course(intake, catalogue(), "LASER", (), DAY)

        assert check.possible_from is None

    def test_a_treatment_not_in_the_catalogue_gives_none(self):
        assert check_course(self.INTAKE, catalogue(), "GONE", (), DAY) is None

    def test_one_treatment_assessed_alone_is_what_the_ranking_gives(self):
        ranked = recommend(replace(self.INTAKE, as_of=DAY), catalogue()).treatments[0]

        assert assess(replace(self.INTAKE, as_of=DAY), catalogue(), "LASER") == ranked


def test_one_treatment_assessed_alone_reads_its_own_rule_windows():
    """A rule's own window decides for its treatment alone, whether ranked or assessed."""
    facial = TreatmentFacts(
        code="FACIAL", name="Facial", depth_rank=1,
        indications=(("acne_scars", "secondary", False),), suitable=frozenset(ALL),
        pih_risk={t: "low" for t in ALL},
        rules={"recent_tan": RuleFacts("recent_tan", "absolute", "tan", "vendor", "low", ("S",),
                                       window=(2, "weeks"), window_sources=("S",))})
    snapshot = replace(catalogue(), treatments=(LASER, facial))
    tanned = Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),), as_of=DAY,
                    dated_answers=(("last_tan", "date", datetime.date(2026, 11, 1)),))

    ranked = {r.code: r for r in recommend(tanned, snapshot).treatments}

    assert assess(tanned, snapshot, "FACIAL") == ranked["FACIAL"]
    assert not ranked["FACIAL"].excluded  # a month ago: past the facial's two weeks
    assert ranked["LASER"].excluded  # still inside the six-week default


class TestAgeOnTheDayOfTreatment:
    """The date of birth decides the age conditions on the day of treatment itself."""

    AGES = {code: ConditionFacts(code, "status") for code in
            ("age_under_18", "age_under_21", "age_over_65")}

    def conditions(self, born, on, **intake):
        snapshot = replace(catalogue(), conditions={**CONDITIONS, **self.AGES})
        normalised = normalise(Intake(date_of_birth=born, as_of=on, **intake), snapshot)
        return normalised.conditions & set(self.AGES), normalised.until

    def test_under_18_until_the_18th_birthday_which_is_when_it_lapses(self):
        born = datetime.date(2009, 5, 20)

        before, until = self.conditions(born, datetime.date(2027, 5, 19))
        on_the_day, _until = self.conditions(born, datetime.date(2027, 5, 20))

        assert before == {"age_under_18", "age_under_21"}
        assert until["age_under_18"] == datetime.date(2027, 5, 20)
        assert on_the_day == {"age_under_21"}

    def test_65_and_over_from_the_65th_birthday_and_for_good(self):
        born = datetime.date(1962, 1, 15)

        assert self.conditions(born, datetime.date(2027, 1, 14))[0] == set()
        present, until = self.conditions(born, datetime.date(2027, 1, 15))
        assert present == {"age_over_65"} and "age_over_65" not in until

    def test_a_leap_day_birthday_counts_from_the_first_of_march(self):
        born = datetime.date(2008, 2, 29)

        assert "age_under_18" in self.conditions(born, datetime.date(2026, 2, 28))[0]
        assert "age_under_18" not in self.conditions(born, datetime.date(2026, 3, 1))[0]

    def test_without_a_date_of_birth_only_the_answers_count(self):
        present, _until = self.conditions(None, DAY, conditions=frozenset({"age_under_21"}))

        assert present == {"age_under_21"}

    def test_an_age_answered_outright_has_no_end(self):
        _present, until = self.conditions(datetime.date(2010, 1, 1), DAY,
                                          conditions=frozenset({"age_under_18"}))

        assert "age_under_18" not in until
