"""The recommendation engine, decision rule by decision rule. Plain data in, plain data out:
the small catalogue below is built by hand, and the shipped catalogue is read once."""

import pytest

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    Intake,
    PolicyFacts,
    RequirementFacts,
    RuleFacts,
    TreatmentFacts,
    recommend,
)
from treatments.loading import catalogue_file_read
from treatments.snapshot import catalogue_snapshot

ALL = ("I", "II", "III", "IV", "V", "VI")


def treatment(code, depth_rank=2, **overrides):
    facts = {
        "code": code, "name": code.title(), "depth_rank": depth_rank,
        "indications": (("acne_scars", "primary", False),),
        "suitable": frozenset(ALL), "pih_risk": {t: "low" for t in ALL},
    }
    facts.update(overrides)
    return TreatmentFacts(**facts)


def rule(condition, severity, **extra):
    return RuleFacts(condition=condition, severity=severity, rationale=f"{condition} matters",
                     basis=extra.pop("basis", "guideline"),
                     confidence=extra.pop("confidence", "high"),
                     sources=extra.pop("sources", ("S_ONE",)), **extra)


POLICIES = tuple(PolicyFacts(code, code, "") for code in [
    "diabetes_both_answers", "pregnancy_unsure", "fitzpatrick_unknown",
    "phototype_contradicts_tan", "no_medications_contradiction"])
CONDITIONS = {code: ConditionFacts(code, "medical") for code in [
    "pregnancy", "diabetes_controlled", "diabetes_uncontrolled", "herpes_simplex_history",
    "recent_tan", "keloid_tendency"]}
CONDITIONS["active_herpes_lesion"] = ConditionFacts(
    "active_herpes_lesion", "local", ("herpes_simplex_history",))


def catalogue(*treatments):
    return CatalogueSnapshot(conditions=CONDITIONS, policies=POLICIES, treatments=treatments,
                             concerns=frozenset({"acne_scars", "melasma", "fine_lines"}))


def result(recommendation, code):
    return next(t for t in recommendation.treatments if t.code == code)


def scars(severity="moderate", **intake):
    return Intake(concerns=(("acne_scars", severity),), **{"fitzpatrick": "III", **intake})


class TestCandidates:  # decision rule 2
    def test_a_treatment_that_treats_a_concern_is_a_candidate(self):
        rec = recommend(scars(), catalogue(treatment("LASER")))

        laser = result(rec, "LASER")
        assert laser.indicated
        assert laser.matched_concerns == (("acne_scars", "primary", "moderate", False),)
        assert [t.code for t in rec.recommended] == ["LASER"]

    def test_one_that_treats_none_of_them_is_not(self):
        rec = recommend(Intake(fitzpatrick="III", concerns=(("melasma", "mild"),)),
                        catalogue(treatment("LASER")))

        assert not result(rec, "LASER").indicated
        assert rec.recommended == ()

    def test_concerns_it_must_not_be_used_for_are_reported(self):
        laser = treatment("LASER", not_indicated=(("melasma", "rebound pigmentation"),))

        rec = recommend(Intake(fitzpatrick="III", concerns=(("melasma", "mild"),)),
                        catalogue(laser))

        assert result(rec, "LASER").not_indicated_for == (("melasma", "rebound pigmentation"),)
        assert not result(rec, "LASER").indicated


class TestContraindications:  # decision rules 3, 4 and 8
    def test_an_absolute_rule_excludes_and_names_its_trigger_and_evidence(self):
        laser = treatment("LASER", rules={"pregnancy": rule("pregnancy", "absolute")})

        rec = recommend(scars(conditions=frozenset({"pregnancy"})), catalogue(laser))

        flag = result(rec, "LASER").flags[0]
        assert (flag.code, flag.severity, flag.reason) == ("pregnancy", "absolute",
                                                          "pregnancy matters")
        assert (flag.basis, flag.confidence, flag.sources) == ("guideline", "high", ("S_ONE",))
        assert result(rec, "LASER").excluded
        assert [t.code for t in rec.excluded] == ["LASER"]
        assert rec.recommended == ()

    def test_a_relative_rule_flags_without_excluding(self):
        laser = treatment("LASER", rules={"keloid_tendency": rule("keloid_tendency", "relative")})

        rec = recommend(scars(conditions=frozenset({"keloid_tendency"})), catalogue(laser))

        laser_result = result(rec, "LASER")
        assert [(f.code, f.severity) for f in laser_result.flags] == [("keloid_tendency",
                                                                       "relative")]
        assert laser_result.suitable

    def test_a_scoped_relative_rule_keeps_its_scope_for_the_clinician(self):
        filler = treatment("FILLER", rules={"keloid_tendency": rule(
            "keloid_tendency", "relative", scope="Absolute for lidocaine products.")})

        rec = recommend(scars(conditions=frozenset({"keloid_tendency"})), catalogue(filler))

        flag = result(rec, "FILLER").flags[0]
        assert flag.severity == "relative"
        assert flag.scope == "Absolute for lidocaine products."

    def test_an_informational_rule_is_a_note_only(self):
        gel = treatment("GEL", rules={"pregnancy": RuleFacts("pregnancy", "informational",
                                                             "no restriction found")})

        rec = recommend(scars(conditions=frozenset({"pregnancy"})), catalogue(gel))

        assert result(rec, "GEL").flags == ()
        assert result(rec, "GEL").notes == (("pregnancy", "no restriction found", ()),)
        assert result(rec, "GEL").suitable

    def test_a_rule_for_an_absent_condition_does_nothing(self):
        laser = treatment("LASER", rules={"pregnancy": rule("pregnancy", "absolute")})

        assert result(recommend(scars(), catalogue(laser)), "LASER").flags == ()

    def test_implied_conditions_trigger_their_rules(self):
        laser = treatment("LASER", rules={"herpes_simplex_history": rule(
            "herpes_simplex_history", "relative")})

        rec = recommend(scars(conditions=frozenset({"active_herpes_lesion"})), catalogue(laser))

        assert [f.code for f in result(rec, "LASER").flags] == ["herpes_simplex_history"]

    def test_pregnancy_unsure_triggers_the_pregnancy_rules(self):
        laser = treatment("LASER", rules={"pregnancy": rule("pregnancy", "absolute")})

        rec = recommend(scars(pregnancy_answer="unsure"), catalogue(laser))

        assert result(rec, "LASER").excluded
        assert [n.policy for n in rec.notes] == ["pregnancy_unsure"]

    def test_both_diabetes_answers_apply_the_uncontrolled_rules_only(self):
        laser = treatment("LASER", rules={
            "diabetes_controlled": rule("diabetes_controlled", "relative"),
            "diabetes_uncontrolled": rule("diabetes_uncontrolled", "absolute")})

        rec = recommend(scars(conditions=frozenset({"diabetes_controlled",
                                                    "diabetes_uncontrolled"})), catalogue(laser))

        assert [(f.code, f.severity) for f in result(rec, "LASER").flags] == [
            ("diabetes_uncontrolled", "absolute")]


class TestPhototypes:  # decision rules 3 and 6
    LASER = treatment("LASER", suitable=frozenset({"I", "II", "III"}),
                      caution=frozenset({"IV", "V"}), excluded=frozenset({"VI"}),
                      pih_risk={"I": "low", "II": "low", "III": "moderate", "IV": "high",
                                "V": "high", "VI": "high"})

    @pytest.mark.parametrize("phototype, suitability, flags, pih", [
        ("I", "suitable", [], "low"),
        ("III", "suitable", [], "moderate"),
        ("IV", "caution", [("fitzpatrick", "relative")], "high"),
        ("VI", "excluded", [("fitzpatrick", "absolute")], "high"),
    ])
    def test_the_patients_type_sets_suitability_flags_and_pigment_risk(
            self, phototype, suitability, flags, pih):
        laser = result(recommend(scars(fitzpatrick=phototype), catalogue(self.LASER)), "LASER")

        assert laser.fitzpatrick == suitability
        assert [(f.code, f.severity) for f in laser.flags] == flags
        assert laser.pih_risk == pih

    def test_an_unknown_type_takes_the_highest_risk_of_types_three_to_six(self):
        laser = treatment("LASER", pih_risk={"I": "high", "II": "high", "III": "low",
                                             "IV": "moderate", "V": "moderate", "VI": "low"})

        rec = recommend(scars(fitzpatrick="unknown"), catalogue(laser))

        assert result(rec, "LASER").pih_risk == "moderate"
        assert result(rec, "LASER").fitzpatrick == "unknown"
        assert [n.policy for n in rec.notes] == ["fitzpatrick_unknown"]

    def test_an_unknown_type_is_a_caution_where_some_types_are_limited(self):
        rec = recommend(scars(fitzpatrick="unknown"), catalogue(self.LASER))

        flags = result(rec, "LASER").flags
        assert [(f.code, f.severity) for f in flags] == [("fitzpatrick", "relative")]
        assert "IV, V, VI" in flags[0].reason

    @pytest.mark.parametrize("risk, expected", [("unsourced", "unknown"),
                                                ("not_applicable", "not_applicable")])
    def test_unsourced_risk_reads_as_unknown(self, risk, expected):
        gel = treatment("GEL", pih_risk={t: risk for t in ALL})

        assert result(recommend(scars(), catalogue(gel)), "GEL").pih_risk == expected


class TestRequirements:  # decision rule 5
    @pytest.mark.parametrize("step, intake, attached", [
        (RequirementFacts("test_spot", "Test spot", "required", applies_to_all=True), {}, True),
        (RequirementFacts("antiviral", "Antiviral", "required",
                          conditions=frozenset({"herpes_simplex_history"})),
         {"conditions": frozenset({"herpes_simplex_history"})}, True),
        (RequirementFacts("antiviral", "Antiviral", "required",
                          conditions=frozenset({"herpes_simplex_history"})), {}, False),
        (RequirementFacts("priming", "Priming", "recommended", concerns=frozenset({"acne_scars"})),
         {}, True),
        (RequirementFacts("spot", "Spot", "recommended", phototype_from="IV", phototype_to="VI"),
         {"fitzpatrick": "V"}, True),
        (RequirementFacts("spot", "Spot", "recommended", phototype_from="IV", phototype_to="VI"),
         {"fitzpatrick": "II"}, False),
        (RequirementFacts("spot", "Spot", "recommended", phototype_from="IV", phototype_to="VI"),
         {"fitzpatrick": "unknown"}, True),
        (RequirementFacts("antiviral", "Antiviral", "recommended",
                          areas=frozenset({"full_face", "perioral"})),
         {"treatment_area": "perioral"}, True),
        (RequirementFacts("antiviral", "Antiviral", "recommended",
                          areas=frozenset({"full_face", "perioral"})),
         {"treatment_area": "neck"}, False),
    ])
    def test_a_step_is_attached_when_it_applies(self, step, intake, attached):
        laser = treatment("LASER", requirements=(step,))

        steps = result(recommend(scars(**intake), catalogue(laser)), "LASER").requirements

        assert bool(steps) is attached

    def test_the_same_step_twice_is_listed_once_at_its_strongest(self):
        laser = treatment("LASER", requirements=(
            RequirementFacts("antiviral", "Antiviral", "recommended", applies_to_all=True),
            RequirementFacts("antiviral", "Antiviral", "required",
                             conditions=frozenset({"herpes_simplex_history"}))))

        steps = result(recommend(scars(conditions=frozenset({"herpes_simplex_history"})),
                                 catalogue(laser)), "LASER").requirements

        assert [(s.code, s.strength) for s in steps] == [("antiviral", "required")]


class TestReferralsAndEmptyResults:  # decision rules 7 and 9
    def test_refer_out_options_are_listed_apart(self):
        rec = recommend(scars(), catalogue(treatment("SURGERY", referral=True),
                                           treatment("PEEL")))

        assert [t.code for t in rec.recommended] == ["PEEL"]
        assert [t.code for t in rec.referrals] == ["SURGERY"]

    def test_nothing_suitable_is_said_plainly(self):
        laser = treatment("LASER", rules={"pregnancy": rule("pregnancy", "absolute")})

        rec = recommend(scars(conditions=frozenset({"pregnancy"})), catalogue(laser))

        assert rec.no_suitable_option

    def test_no_concern_is_not_a_failure_to_find_one(self):
        assert not recommend(Intake(fitzpatrick="III"), catalogue(treatment("LASER"))
                             ).no_suitable_option


class TestRanking:
    def test_primary_beats_secondary_and_severity_weighs(self):
        primary = treatment("PRIMARY")
        secondary = treatment("SECONDARY", indications=(("acne_scars", "secondary", False),))

        rec = recommend(scars("severe"), catalogue(secondary, primary))

        assert [t.code for t in rec.recommended] == ["PRIMARY", "SECONDARY"]
        assert result(rec, "PRIMARY").score.indication == 6  # 2 points x severe (3)

    @pytest.mark.parametrize("severity, best", [("mild", "SURFACE"), ("severe", "DEEP")])
    def test_depth_is_matched_to_severity(self, severity, best):
        surface = treatment("SURFACE", depth_rank=1)
        deep = treatment("DEEP", depth_rank=3)

        rec = recommend(scars(severity), catalogue(surface, deep))

        assert rec.recommended[0].code == best

    def test_cautions_and_pigment_risk_lower_the_rank(self):
        clean = treatment("CLEAN")
        cautious = treatment("CAUTIOUS", rules={"keloid_tendency": rule("keloid_tendency",
                                                                        "relative")})
        pigmenting = treatment("PIGMENTING", pih_risk={t: "high" for t in ALL})

        rec = recommend(scars(conditions=frozenset({"keloid_tendency"})),
                        catalogue(cautious, pigmenting, clean))

        assert rec.recommended[0].code == "CLEAN"
        assert {t.code for t in rec.recommended[1:]} == {"CAUTIOUS", "PIGMENTING"}
        assert result(rec, "CAUTIOUS").score.cautions == 2
        assert result(rec, "PIGMENTING").score.pigmentation == 2

    def test_a_contested_indication_counts_half(self):
        contested = treatment("CONTESTED", indications=(("acne_scars", "primary", True),))

        assert result(recommend(scars(), catalogue(contested)), "CONTESTED").score.indication == 2

    def test_the_score_is_the_sum_of_its_parts(self):
        laser = treatment("LASER", depth_rank=3, pih_risk={t: "moderate" for t in ALL},
                          rules={"keloid_tendency": rule("keloid_tendency", "relative")})

        score = result(recommend(scars("moderate", conditions=frozenset({"keloid_tendency"})),
                                 catalogue(laser)), "LASER").score

        assert (score.indication, score.depth, score.cautions, score.pigmentation) == (
            4, 0.5, 2, 1)
        assert score.total == 1.5

    def test_a_sensitive_skin_type_counts_as_a_barrier_concern(self):
        mask = treatment("MASK", indications=(("sensitive_barrier", "secondary", False),))

        rec = recommend(Intake(fitzpatrick="III", skin_type="sensitive"), catalogue(mask))

        assert result(rec, "MASK").indicated


# -- The shipped catalogue, rule by rule ----------------------------------------------------

@pytest.fixture(scope="module")
def shipped(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return catalogue_snapshot()


def concern_of(facts):
    return facts.indications[0][0]


SHIPPED_RULES = [(t["code"], rule["condition"], rule["severity"])
                 for t in catalogue_file_read()["treatments"] for rule in t["contraindications"]]


@pytest.mark.parametrize("code, condition, severity", SHIPPED_RULES)
def test_every_shipped_rule_is_applied(shipped, code, condition, severity):
    facts = next(t for t in shipped.treatments if t.code == code)
    intake = Intake(fitzpatrick="III", concerns=((concern_of(facts), "moderate"),),
                    conditions=frozenset({condition}))

    treated = result(recommend(intake, shipped), code)

    if severity == "informational":
        assert condition in [note[0] for note in treated.notes]
        assert condition not in [flag.code for flag in treated.flags]
    else:
        flag = next(flag for flag in treated.flags if flag.code == condition)
        assert flag.severity == severity
        assert flag.reason and flag.confidence
        assert treated.excluded is (severity == "absolute" or any(
            f.severity == "absolute" for f in treated.flags))


@pytest.mark.parametrize("phototype", ALL)
def test_every_shipped_phototype_range_is_applied(shipped, phototype):
    intake_for = {t.code: Intake(fitzpatrick=phototype, concerns=((concern_of(t), "mild"),))
                  for t in shipped.treatments}
    for facts in shipped.treatments:
        treated = result(recommend(intake_for[facts.code], shipped), facts.code)
        severities = [f.severity for f in treated.flags if f.code == "fitzpatrick"]
        if phototype in facts.excluded:
            assert severities == ["absolute"], facts.code
        elif phototype in facts.caution:
            assert severities == ["relative"], facts.code
        else:
            assert severities == [], facts.code


class TestDisagreementResolutions:
    """Where sources disagree, the catalogue's resolution decides the outcome."""

    def outcome(self, shipped, code, *conditions, **intake):
        facts = next(t for t in shipped.treatments if t.code == code)
        treated = result(recommend(Intake(**{"fitzpatrick": "III", **intake},
                                          concerns=((concern_of(facts), "moderate"),),
                                          conditions=frozenset(conditions)), shipped), code)
        return {flag.code: flag.severity for flag in treated.flags}

    def test_d01_isotretinoin_relative_where_only_guidelines_speak_absolute_where_labelled(
            self, shipped):
        for guideline_covered in ("NAFL_1550", "PEEL_AHA_LOW", "MICRONEEDLING"):
            assert self.outcome(shipped, guideline_covered,
                                "isotretinoin_6m")["isotretinoin_6m"] == "relative"
        for labelled_or_deep in ("RF_MICRONEEDLING", "CO2_FRAC", "PEEL_TCA_MEDIUM"):
            assert self.outcome(shipped, labelled_or_deep,
                                "isotretinoin_6m")["isotretinoin_6m"] == "absolute"

    def test_d02_pregnancy_absolute_wherever_a_source_says_avoid(self, shipped):
        assert self.outcome(shipped, "CO2_FRAC", "pregnancy")["pregnancy"] == "absolute"
        # The micro-focused ultrasound consensus calls it a contraindication, the UK
        # safety sheet only "not evaluated": the stricter reading holds.
        assert self.outcome(shipped, "HIFU", "pregnancy")["pregnancy"] == "absolute"

    def test_d03_uncontrolled_diabetes_absolute_controlled_relative(self, shipped):
        assert self.outcome(shipped, "CO2_FRAC", "diabetes_uncontrolled") == {
            "diabetes_uncontrolled": "absolute"}
        assert self.outcome(shipped, "CO2_FRAC", "diabetes_controlled") == {
            "diabetes_controlled": "relative"}

    def test_d09_pacemaker_rules_out_monopolar_radiofrequency(self, shipped):
        assert self.outcome(shipped, "RF_MONOPOLAR", "pacemaker_or_implanted_device")[
            "pacemaker_or_implanted_device"] == "absolute"

    def test_d13_d77_toxin_in_pregnancy_is_absolute_and_in_lactation_relative(self, shipped):
        assert self.outcome(shipped, "BOTOX", "pregnancy", "lactation") == {
            "pregnancy": "absolute", "lactation": "relative"}

    def test_d20_ipl_with_cold_sores_is_a_caution_with_antiviral_cover(self, shipped):
        treated = result(recommend(Intake(fitzpatrick="III", concerns=(("hyperpigmentation",
                                                                        "moderate"),),
                                          conditions=frozenset({"herpes_simplex_history"})),
                                   shipped), "IPL")

        assert {f.code: f.severity for f in treated.flags} == {"herpes_simplex_history":
                                                               "relative"}
        assert ("antiviral_prophylaxis", "required") in [(s.code, s.strength)
                                                        for s in treated.requirements]


def test_pregnancy_and_acne_scars_exclude_co2_and_keep_silicone_gel(shipped):
    rec = recommend(Intake(fitzpatrick="III", concerns=(("acne_scars", "moderate"),),
                           conditions=frozenset({"pregnancy"})), shipped)

    co2 = result(rec, "CO2_FRAC")
    assert co2.excluded
    assert "pregnancy" in [f.code for f in co2.flags if f.severity == "absolute"]
    assert "SILICONE_GEL" in [t.code for t in rec.recommended]
