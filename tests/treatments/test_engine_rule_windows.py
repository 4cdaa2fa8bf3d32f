"""A window's length belongs to the rule that uses it: where a treatment's own sources give a
different interval (a recent resurfacing matters for months before a laser, for weeks before
a medical facial), the rule's window decides for that treatment alone, and its flag lapses
by it. And a treatment given again waits its labelled minimum interval. Plain data in, plain
data out."""

import datetime

import pytest

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    DatedQuestionFacts,
    Intake,
    RuleFacts,
    TreatmentFacts,
    earliest_repeat,
    recommend,
)

ALL = ("I", "II", "III", "IV", "V", "VI")
QUESTIONS = {
    "last_resurfacing_in_area": DatedQuestionFacts(
        "last_resurfacing_in_area", "", (("recent_resurfacing", 3, "months"),)),
    "last_toxin_in_area": DatedQuestionFacts(
        "last_toxin_in_area", "", (("recent_toxin_in_area", 14, "days"),)),
}
CONDITIONS = {
    "recent_resurfacing": ConditionFacts("recent_resurfacing", "history"),
    "recent_toxin_in_area": ConditionFacts("recent_toxin_in_area", "history",
                                           ("recent_toxin_any_site",)),
    "recent_toxin_any_site": ConditionFacts("recent_toxin_any_site", "history"),
}


def rule(condition, severity, window=None):
    return RuleFacts(condition, severity, f"{condition} matters", "clinic_practice", "medium",
                     ("S",), window=window, window_sources=("S_WINDOW",) if window else ())


def treatment(code, rules, minimum_interval=None):
    return TreatmentFacts(
        code=code, name=code, depth_rank=1, indications=(("dullness", "primary", False),),
        suitable=frozenset(ALL), pih_risk={t: "low" for t in ALL},
        rules={r.condition: r for r in rules}, minimum_interval=minimum_interval)


LASER = treatment("LASER", [rule("recent_resurfacing", "absolute"),
                            rule("recent_toxin_in_area", "relative")])
FACIAL = treatment("FACIAL", [rule("recent_resurfacing", "absolute", (2, "weeks"))])
INJECTOR = treatment("INJECTOR", [rule("recent_toxin_in_area", "relative", (3, "months")),
                                  rule("recent_toxin_any_site", "relative")])
MONTHLY = treatment("MONTHLY", [rule("recent_resurfacing", "absolute", (1, "months"))])
CATALOGUE = CatalogueSnapshot(conditions=CONDITIONS, treatments=(LASER, FACIAL, INJECTOR, MONTHLY),
                              concerns=frozenset({"dullness"}), dated_questions=QUESTIONS)


def results(as_of, *answers, conditions=frozenset()):
    recommendation = recommend(Intake(fitzpatrick="III", concerns=(("dullness", "mild"),),
                                      conditions=conditions, as_of=as_of,
                                      dated_answers=tuple(answers)), CATALOGUE)
    return recommendation, {r.code: r for r in recommendation.treatments}


def flags(result):
    return {flag.code: (flag.severity, flag.until) for flag in result.flags}


def resurfaced(when):
    return ("last_resurfacing_in_area", "date", when)


DAY = datetime.date(2027, 6, 15)


class TestARuleShorterThanTheDefault:
    def test_three_weeks_after_resurfacing_the_laser_waits_and_the_facial_does_not(self):
        _rec, by_code = results(DAY, resurfaced(DAY - datetime.timedelta(weeks=3)))

        assert flags(by_code["LASER"]) == {
            "recent_resurfacing": ("absolute", datetime.date(2027, 8, 26))}
        assert flags(by_code["FACIAL"]) == {}
        assert by_code["FACIAL"].suitable

    def test_on_the_windows_first_day_the_rule_still_applies(self):
        _rec, by_code = results(DAY, resurfaced(DAY - datetime.timedelta(weeks=2)))

        assert flags(by_code["FACIAL"]) == {
            "recent_resurfacing": ("absolute", datetime.date(2027, 6, 16))}
        assert by_code["FACIAL"].suitable_from == datetime.date(2027, 6, 16)

    def test_on_its_last_day_it_applies_and_on_the_day_after_it_has_lapsed(self):
        when = datetime.date(2027, 6, 1)

        _rec, last_day = results(when + datetime.timedelta(days=14), resurfaced(when))
        _rec, day_after = results(when + datetime.timedelta(days=15), resurfaced(when))

        assert flags(last_day["FACIAL"]) == {
            "recent_resurfacing": ("absolute", datetime.date(2027, 6, 16))}
        assert flags(day_after["FACIAL"]) == {}
        assert "recent_resurfacing" in flags(day_after["LASER"])

    def test_the_recommendations_conditions_keep_the_catalogues_window(self):
        rec, _by_code = results(DAY, resurfaced(DAY - datetime.timedelta(weeks=3)))

        assert "recent_resurfacing" in rec.conditions

    def test_a_condition_given_outright_lasts_whatever_the_rules_window(self):
        _rec, by_code = results(DAY, resurfaced(DAY - datetime.timedelta(weeks=3)),
                                conditions=frozenset({"recent_resurfacing"}))

        assert flags(by_code["FACIAL"]) == {"recent_resurfacing": ("absolute", None)}
        assert by_code["FACIAL"].suitable_from is None


class TestARuleLongerThanTheDefault:
    def test_six_weeks_after_toxin_only_the_rule_with_three_months_flags_it(self):
        when = DAY - datetime.timedelta(weeks=6)

        _rec, by_code = results(DAY, ("last_toxin_in_area", "date", when))

        assert "recent_toxin_in_area" not in flags(by_code["LASER"])
        assert flags(by_code["INJECTOR"])["recent_toxin_in_area"] == (
            "relative", datetime.date(2027, 8, 5))

    def test_what_the_condition_implies_follows_the_rules_window(self):
        when = DAY - datetime.timedelta(weeks=6)

        _rec, by_code = results(DAY, ("last_toxin_in_area", "date", when))

        assert flags(by_code["INJECTOR"])["recent_toxin_any_site"] == (
            "relative", datetime.date(2027, 8, 5))

    def test_the_day_after_the_rules_window_it_has_lapsed(self):
        when = datetime.date(2027, 3, 10)

        _rec, last_day = results(datetime.date(2027, 6, 10), ("last_toxin_in_area", "date", when))
        _rec, day_after = results(datetime.date(2027, 6, 11),
                                  ("last_toxin_in_area", "date", when))

        assert "recent_toxin_in_area" in flags(last_day["INJECTOR"])
        assert flags(day_after["INJECTOR"]) == {}


class TestMonthEnds:
    def test_a_month_after_31_january_runs_to_the_end_of_february(self):
        when = datetime.date(2027, 1, 31)

        _rec, end_of_february = results(datetime.date(2027, 2, 28), resurfaced(when))
        _rec, first_of_march = results(datetime.date(2027, 3, 1), resurfaced(when))

        assert flags(end_of_february["MONTHLY"]) == {
            "recent_resurfacing": ("absolute", datetime.date(2027, 3, 1))}
        assert flags(first_of_march["MONTHLY"]) == {}


class TestEarliestRepeat:
    def test_a_treatment_without_a_minimum_gives_no_day(self):
        assert earliest_repeat(LASER, datetime.date(2027, 1, 1)) is None

    @pytest.mark.parametrize("interval, previous, earliest", [
        ((14, "days"), datetime.date(2027, 1, 25), datetime.date(2027, 2, 8)),
        ((4, "weeks"), datetime.date(2027, 12, 20), datetime.date(2028, 1, 17)),
        ((3, "months"), datetime.date(2027, 1, 1), datetime.date(2027, 4, 1)),
        ((3, "months"), datetime.date(2027, 10, 15), datetime.date(2028, 1, 15)),
        # A month end the later month lacks is stepped past, never cut short.
        ((3, "months"), datetime.date(2027, 1, 31), datetime.date(2027, 5, 1)),
        ((3, "months"), datetime.date(2027, 11, 30), datetime.date(2028, 3, 1)),
        ((1, "months"), datetime.date(2027, 1, 28), datetime.date(2027, 2, 28)),
        # Leap years: 29 February exists in 2028 only.
        ((3, "months"), datetime.date(2027, 11, 29), datetime.date(2028, 2, 29)),
        ((2, "months"), datetime.date(2027, 12, 31), datetime.date(2028, 3, 1)),
        ((12, "months"), datetime.date(2028, 2, 29), datetime.date(2029, 3, 1)),
        ((1, "months"), datetime.date(2028, 1, 29), datetime.date(2028, 2, 29)),
    ])
    def test_the_first_day_a_further_session_may_be_given(self, interval, previous, earliest):
        assert earliest_repeat(treatment("TOXIN", [], interval), previous) == earliest
