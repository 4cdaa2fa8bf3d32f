"""What the engine says of the catalogue's silences, and of pre-treatment steps that are
themselves unsafe for a patient. Plain data in, plain data out."""

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    Intake,
    RequirementFacts,
    RuleFacts,
    StepContraindicationFacts,
    StepFacts,
    TreatmentFacts,
    coverage_state,
    recommend,
)

ALL = ("I", "II", "III", "IV", "V", "VI")
CONDITIONS = {code: ConditionFacts(code, "medical") for code in [
    "pregnancy", "epilepsy", "lactation", "keloid_tendency", "herpes_simplex_history"]}


def treatment(code, category="topical", **overrides):
    return TreatmentFacts(**{
        "code": code, "name": code.title(), "depth_rank": 1, "category": category,
        "indications": (("acne_scars", "primary", False),),
        "suitable": frozenset(ALL), "pih_risk": {t: "low" for t in ALL}, **overrides})


def catalogue(*treatments, category_decisions=None, steps=None):
    return CatalogueSnapshot(conditions=CONDITIONS, treatments=treatments,
                             concerns=frozenset({"acne_scars"}),
                             category_decisions=category_decisions or {},
                             steps=steps or {})


def result_for(code, catalogue_, **intake):
    recommendation = recommend(Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),),
                                      **intake), catalogue_)
    return next(t for t in recommendation.treatments if t.code == code)


PREGNANCY_RULE = RuleFacts("pregnancy", "absolute", "avoid", "label_ifu", "high", ("S_LABEL",))


class TestUnreviewedConditions:
    def test_a_condition_with_neither_rule_nor_decision_is_reported_not_reviewed(self):
        gel = treatment("GEL", rules={"pregnancy": PREGNANCY_RULE})

        found = result_for("GEL", catalogue(gel), conditions=frozenset({"pregnancy",
                                                                        "epilepsy"}))

        assert found.unreviewed == ("epilepsy",)
        assert [flag.code for flag in found.flags] == ["pregnancy"]

    def test_an_unreviewed_condition_is_never_read_as_clear_nor_as_a_flag(self):
        gel = treatment("GEL")

        found = result_for("GEL", catalogue(gel), conditions=frozenset({"epilepsy"}))

        assert found.unreviewed == ("epilepsy",)
        assert found.flags == ()
        assert found.suitable  # unknown is shown as unknown, it neither clears nor excludes

    def test_a_condition_the_patient_does_not_have_is_not_listed(self):
        found = result_for("GEL", catalogue(treatment("GEL")), conditions=frozenset())

        assert found.unreviewed == ()

    def test_an_informational_rule_counts_as_reviewed(self):
        note = RuleFacts("epilepsy", "informational", "no bearing on a gel", "principle", "low",
                         ("S_ONE",))
        gel = treatment("GEL", rules={"epilepsy": note})

        found = result_for("GEL", catalogue(gel), conditions=frozenset({"epilepsy"}))

        assert found.unreviewed == ()
        assert found.notes[0][0] == "epilepsy"


class TestDecisions:
    def test_a_treatment_decision_marks_the_condition_reviewed_without_a_flag(self):
        gel = treatment("GEL", decided=frozenset({"epilepsy"}))

        found = result_for("GEL", catalogue(gel), conditions=frozenset({"epilepsy"}))

        assert found.unreviewed == ()
        assert found.flags == ()

    def test_a_category_decision_covers_every_treatment_of_the_category(self):
        gel, mask = treatment("GEL"), treatment("MASK")
        laser = treatment("LASER", category="laser")
        snapshot = catalogue(gel, mask, laser,
                             category_decisions={"topical": frozenset({"epilepsy"})})

        for code in ("GEL", "MASK"):
            assert result_for(code, snapshot, conditions=frozenset({"epilepsy"})).unreviewed == ()
        assert result_for("LASER", snapshot,
                          conditions=frozenset({"epilepsy"})).unreviewed == ("epilepsy",)
        assert coverage_state(gel, "epilepsy", snapshot) == "decided_category"

    def test_a_treatment_rule_overrides_its_category_decision(self):
        rule = RuleFacts("epilepsy", "relative", "flashes", "label_ifu", "high", ("S_ONE",))
        gel, lamp = treatment("GEL"), treatment("LAMP", rules={"epilepsy": rule})
        snapshot = catalogue(gel, lamp, category_decisions={"topical": frozenset({"epilepsy"})})

        lamp_result = result_for("LAMP", snapshot, conditions=frozenset({"epilepsy"}))

        assert [(f.code, f.severity) for f in lamp_result.flags] == [("epilepsy", "relative")]
        assert coverage_state(lamp, "epilepsy", snapshot) == "relative"
        assert coverage_state(gel, "epilepsy", snapshot) == "decided_category"

    def test_a_treatment_decision_overrides_nothing_but_silence(self):
        gel = treatment("GEL", decided=frozenset({"epilepsy"}))
        snapshot = catalogue(gel, category_decisions={"topical": frozenset({"epilepsy"})})

        assert coverage_state(gel, "epilepsy", snapshot) == "decided"


PRIMING = RequirementFacts(code="pigment_priming", label="Pigment priming",
                           strength="recommended", applies_to_all=True, key="7",
                           timing="2 weeks before")
NOT_IN_PREGNANCY = StepContraindicationFacts(
    condition="pregnancy", rationale="retinoids are avoided in pregnancy",
    alternative="priming_azelaic", basis="label_ifu", confidence="high", sources=("S_LABEL",))
STEPS = {
    "pigment_priming": StepFacts("pigment_priming", "Pigment priming", "medicine",
                                 (NOT_IN_PREGNANCY,)),
    "priming_azelaic": StepFacts("priming_azelaic", "Priming with azelaic acid", "medicine"),
}


class TestStepsThatAreUnsafeThemselves:
    def test_a_step_contraindicated_for_the_patient_is_replaced_by_its_alternative(self):
        peel = treatment("PEEL", requirements=(PRIMING,), decided=frozenset({"pregnancy"}))

        found = result_for("PEEL", catalogue(peel, steps=STEPS),
                           conditions=frozenset({"pregnancy"}))

        (step,) = found.requirements
        assert step.code == "priming_azelaic"
        assert step.label == "Priming with azelaic acid"
        assert step.strength == "recommended"
        assert step.replaces == "pigment_priming"
        assert [c.condition for c in step.replaced_because] == ["pregnancy"]
        assert not step.unsafe

    def test_the_step_is_kept_as_it_is_for_a_patient_it_suits(self):
        peel = treatment("PEEL", requirements=(PRIMING,))

        (step,) = result_for("PEEL", catalogue(peel, steps=STEPS),
                             conditions=frozenset()).requirements

        assert (step.code, step.timing, step.key, step.replaces) == (
            "pigment_priming", "2 weeks before", "7", "")

    def test_a_step_without_an_alternative_is_flagged_not_silently_proposed(self):
        steps = {"pigment_priming": StepFacts("pigment_priming", "Pigment priming", "medicine", (
            StepContraindicationFacts("lactation", "passes into milk", "", "review", "low",
                                      ("S_REVIEW",)),))}
        peel = treatment("PEEL", requirements=(PRIMING,))

        (step,) = result_for("PEEL", catalogue(peel, steps=steps),
                             conditions=frozenset({"lactation"})).requirements

        assert step.code == "pigment_priming"
        assert step.unsafe
        assert [(c.condition, c.rationale) for c in step.unsafe_for] == [
            ("lactation", "passes into milk")]

    def test_an_alternative_that_is_unsafe_too_is_flagged_in_its_turn(self):
        steps = {**STEPS, "priming_azelaic": StepFacts(
            "priming_azelaic", "Priming with azelaic acid", "medicine",
            (StepContraindicationFacts("keloid_tendency", "made up for the test", "",
                                       "principle", "low", ("S_ONE",)),))}
        peel = treatment("PEEL", requirements=(PRIMING,))

        (step,) = result_for("PEEL", catalogue(peel, steps=steps),
                             conditions=frozenset({"pregnancy", "keloid_tendency"})).requirements

        assert step.code == "priming_azelaic"
        assert [c.condition for c in step.unsafe_for] == ["keloid_tendency"]

    def test_two_steps_that_swap_for_each_other_do_not_loop(self):
        steps = {
            "a": StepFacts("a", "A", "medicine", (StepContraindicationFacts(
                "pregnancy", "no", "b", "principle", "low", ("S",)),)),
            "b": StepFacts("b", "B", "medicine", (StepContraindicationFacts(
                "pregnancy", "no", "a", "principle", "low", ("S",)),)),
        }
        step_a = RequirementFacts(code="a", label="A", strength="required", applies_to_all=True)
        peel = treatment("PEEL", requirements=(step_a,))

        (step,) = result_for("PEEL", catalogue(peel, steps=steps),
                             conditions=frozenset({"pregnancy"})).requirements

        assert step.code == "b"
        assert step.unsafe
