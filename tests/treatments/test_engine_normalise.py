"""Decision rule 1: normalising an intake. No database: plain data in, plain data out."""

import pytest

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    Intake,
    PolicyFacts,
    expand_implications,
    normalise,
)

POLICY_CODES = ["diabetes_both_answers", "pregnancy_unsure", "fitzpatrick_unknown",
                "phototype_contradicts_tan", "no_medications_contradiction"]

CATALOGUE = CatalogueSnapshot(
    conditions={
        "pregnancy": ConditionFacts("pregnancy", "status"),
        "diabetes_controlled": ConditionFacts("diabetes_controlled", "medical"),
        "diabetes_uncontrolled": ConditionFacts("diabetes_uncontrolled", "medical"),
        "isotretinoin_current": ConditionFacts("isotretinoin_current", "medication",
                                               ("isotretinoin_6m", "isotretinoin_12m"),
                                               "Isotretinoin now"),
        "isotretinoin_6m": ConditionFacts("isotretinoin_6m", "medication", ("isotretinoin_12m",)),
        "isotretinoin_12m": ConditionFacts("isotretinoin_12m", "medication"),
        "active_herpes_lesion": ConditionFacts("active_herpes_lesion", "local",
                                               ("herpes_simplex_history", "active_infection_site")),
        "herpes_simplex_history": ConditionFacts("herpes_simplex_history", "history"),
        "active_infection_site": ConditionFacts("active_infection_site", "local"),
        "sunburn_current": ConditionFacts("sunburn_current", "status", ("recent_tan",)),
        "recent_tan": ConditionFacts("recent_tan", "status"),
        "anticoagulants": ConditionFacts("anticoagulants", "medication", (), "Anticoagulants"),
    },
    policies=tuple(PolicyFacts(code, code.replace("_", " "), "") for code in POLICY_CODES),
)


def policies_of(result):
    return [note.policy for note in result.notes]


@pytest.mark.parametrize("given, expected", [
    ({"isotretinoin_current"}, {"isotretinoin_current", "isotretinoin_6m", "isotretinoin_12m"}),
    ({"isotretinoin_6m"}, {"isotretinoin_6m", "isotretinoin_12m"}),
    ({"active_herpes_lesion"}, {"active_herpes_lesion", "herpes_simplex_history",
                                "active_infection_site"}),
    ({"sunburn_current"}, {"sunburn_current", "recent_tan"}),
    ({"pregnancy"}, {"pregnancy"}),
    (set(), set()),
])
def test_implications_are_expanded_until_nothing_changes(given, expected):
    assert expand_implications(given, CATALOGUE) == expected


class TestConflictPolicies:
    def test_both_diabetes_answers_keep_only_the_stricter(self):
        result = normalise(Intake(fitzpatrick="III", conditions=frozenset(
            {"diabetes_controlled", "diabetes_uncontrolled"})), CATALOGUE)

        assert result.conditions == {"diabetes_uncontrolled"}
        assert policies_of(result) == ["diabetes_both_answers"]

    def test_one_diabetes_answer_is_kept_as_it_is(self):
        result = normalise(Intake(fitzpatrick="III",
                                  conditions=frozenset({"diabetes_controlled"})), CATALOGUE)

        assert result.conditions == {"diabetes_controlled"}
        assert result.notes == ()

    @pytest.mark.parametrize("answer, pregnant, notes", [
        ("yes", True, []),
        ("unsure", True, ["pregnancy_unsure"]),
        ("no", False, []),
        ("", False, []),
    ])
    def test_pregnancy_unsure_is_read_as_pregnant(self, answer, pregnant, notes):
        result = normalise(Intake(fitzpatrick="III", pregnancy_answer=answer), CATALOGUE)

        assert ("pregnancy" in result.conditions) is pregnant
        assert policies_of(result) == notes

    @pytest.mark.parametrize("phototype", ["unknown", ""])
    def test_an_unknown_phototype_asks_for_assessment(self, phototype):
        result = normalise(Intake(fitzpatrick=phototype), CATALOGUE)

        assert policies_of(result) == ["fitzpatrick_unknown"]
        assert "assessed in person" in result.notes[0].message

    def test_a_light_phototype_with_a_recent_tan_is_flagged(self):
        result = normalise(Intake(fitzpatrick="I", conditions=frozenset({"recent_tan"})),
                           CATALOGUE)

        assert policies_of(result) == ["phototype_contradicts_tan"]
        assert "light phototype (I)" in result.notes[0].message
        assert "recent_tan" in result.conditions

    def test_sunburn_implies_a_recent_tan_and_is_flagged(self):
        result = normalise(Intake(fitzpatrick="IV", conditions=frozenset({"sunburn_current"})),
                           CATALOGUE)

        assert "recent_tan" in result.conditions
        assert policies_of(result) == ["phototype_contradicts_tan"]

    def test_a_questionnaire_that_disagrees_with_the_recorded_type_is_flagged(self):
        result = normalise(Intake(fitzpatrick="II", questionnaire_phototype="IV"), CATALOGUE)

        assert policies_of(result) == ["phototype_contradicts_tan"]
        assert "questionnaire gives (IV)" in result.notes[0].message

    def test_no_medications_with_a_medicine_keeps_the_medicine(self):
        result = normalise(Intake(fitzpatrick="III", no_medications=True,
                                  conditions=frozenset({"anticoagulants"})), CATALOGUE)

        assert "anticoagulants" in result.conditions
        assert policies_of(result) == ["no_medications_contradiction"]
        assert "Anticoagulants" in result.notes[0].message

    def test_an_inactive_policy_is_not_applied(self):
        catalogue = CatalogueSnapshot(conditions=CATALOGUE.conditions, policies=tuple(
            p for p in CATALOGUE.policies if p.code != "diabetes_both_answers"))

        result = normalise(Intake(fitzpatrick="III", conditions=frozenset(
            {"diabetes_controlled", "diabetes_uncontrolled"})), catalogue)

        assert result.conditions == {"diabetes_controlled", "diabetes_uncontrolled"}
        assert result.notes == ()

    def test_a_clean_intake_has_no_notes(self):
        result = normalise(Intake(fitzpatrick="III", pregnancy_answer="no",
                                  conditions=frozenset({"herpes_simplex_history"})), CATALOGUE)

        assert result.notes == ()
        assert result.conditions == {"herpes_simplex_history"}
