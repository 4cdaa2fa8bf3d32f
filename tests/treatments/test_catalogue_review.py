"""The catalogue review: the candidate gaps it finds, most dangerous first, as a command with
an exit status and as an admin page; and the shipped catalogue, which has none."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    RequirementFacts,
    RuleFacts,
    StepFacts,
    TreatmentFacts,
)
from treatments.review import (
    RELATIVE_AGAINST_SOURCE,
    SIBLING,
    SOURCE_SUBJECT,
    STEP_SAFETY,
    catalogue_gaps,
)

CONDITIONS = {code: ConditionFacts(code, "medical") for code in ["pregnancy", "epilepsy"]}


def treatment(code, category, mechanisms=(), **overrides):
    return TreatmentFacts(code=code, name=code, depth_rank=1, category=category,
                          mechanisms=mechanisms, **overrides)


def rule(condition, severity, sources=("S_ONE",), **extra):
    return RuleFacts(condition, severity, "why", "label_ifu", "high", sources, **extra)


def snapshot(*treatments, **extra):
    return CatalogueSnapshot(conditions=CONDITIONS, treatments=treatments, **extra)


class TestGaps:
    def test_a_condition_ruled_on_a_sibling_and_silent_on_another_is_a_gap(self):
        co2 = treatment("CO2", "ablative", rules={"pregnancy": rule("pregnancy", "absolute")})
        erbium = treatment("ERBIUM", "ablative")

        (gap,) = catalogue_gaps(snapshot(co2, erbium), {})

        assert (gap.kind, gap.treatment, gap.condition, gap.danger) == (
            SIBLING, "ERBIUM", "pregnancy", 0)
        assert "CO2 (absolute)" in gap.message

    def test_a_shared_mechanism_makes_a_group_too(self):
        peel = treatment("PEEL", "peel", ("exfoliation",),
                         rules={"epilepsy": rule("epilepsy", "relative")})
        polish = treatment("POLISH", "mechanical", ("exfoliation",))

        (gap,) = catalogue_gaps(snapshot(peel, polish), {})

        assert (gap.treatment, gap.condition, gap.danger) == ("POLISH", "epilepsy", 2)

    def test_a_decision_on_the_sibling_or_its_category_closes_the_gap(self):
        co2 = treatment("CO2", "ablative", rules={"pregnancy": rule("pregnancy", "absolute")})
        decided = treatment("ERBIUM", "ablative", decided=frozenset({"pregnancy"}))
        silent = treatment("ERBIUM", "ablative")

        assert catalogue_gaps(snapshot(co2, decided), {}) == []
        assert catalogue_gaps(snapshot(co2, silent, category_decisions={
            "ablative": frozenset({"pregnancy"})}), {}) == []

    def test_a_source_whose_subject_covers_a_silent_treatment_is_a_gap(self):
        laser = treatment("LASER", "laser", rules={"pregnancy": rule(
            "pregnancy", "absolute", sources=("S_ENERGY_DEVICES",))})
        radio = treatment("RADIO", "radiofrequency")

        (gap,) = catalogue_gaps(snapshot(laser, radio),
                                {"S_ENERGY_DEVICES": frozenset({"laser", "radiofrequency"})})

        assert (gap.kind, gap.treatment, gap.condition) == (SOURCE_SUBJECT, "RADIO", "pregnancy")

    def test_a_medicine_step_that_says_nothing_of_who_must_not_receive_it_is_a_gap(self):
        step = RequirementFacts(code="antiviral", label="Antiviral", strength="required",
                                applies_to_all=True)
        peel = treatment("PEEL", "peel", requirements=(step,))
        silent = {"antiviral": StepFacts("antiviral", "Antiviral", "medicine")}
        stated = {"antiviral": StepFacts("antiviral", "Antiviral", "medicine",
                                         safety_note="Lower dose in kidney disease.")}

        (gap,) = catalogue_gaps(snapshot(peel, steps=silent), {})

        assert (gap.kind, gap.step) == (STEP_SAFETY, "antiviral")
        assert catalogue_gaps(snapshot(peel, steps=stated), {}) == []

    def test_a_relative_rule_a_source_calls_a_contraindication_needs_a_disagreement(self):
        bare = treatment("FILLER", "filler", rules={"pregnancy": rule(
            "pregnancy", "relative", contraindicated_by=("S_ONE",))})
        explained = treatment("FILLER", "filler", rules={"pregnancy": rule(
            "pregnancy", "relative", contraindicated_by=("S_ONE",), disagreement="D80")})

        (gap,) = catalogue_gaps(snapshot(bare), {})

        assert (gap.kind, gap.treatment) == (RELATIVE_AGAINST_SOURCE, "FILLER")
        assert catalogue_gaps(snapshot(explained), {}) == []

    def test_gaps_come_most_dangerous_first(self):
        co2 = treatment("CO2", "ablative", ("resurfacing",), rules={
            "pregnancy": rule("pregnancy", "absolute"), "epilepsy": rule("epilepsy", "relative")})
        erbium = treatment("ERBIUM", "ablative", ("resurfacing",))

        gaps = catalogue_gaps(snapshot(co2, erbium), {})

        assert [g.condition for g in gaps] == ["pregnancy", "epilepsy"]


def review(*args):
    out = io.StringIO()
    try:
        call_command("catalogue_review", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
class TestShippedCatalogue:
    def test_has_no_candidate_gap(self):
        status, out = review()

        assert status == 0, out
        assert "No candidate gaps." in out

    def test_leaves_no_pair_unreviewed(self):
        _status, out = review()

        assert " 0 not reviewed." in out

    def test_a_new_silence_is_reported_with_exit_status_1(self):
        from treatments.models import CoverageDecision, ContraindicationRule

        rule_ = ContraindicationRule.objects.filter(
            treatment__code="ERYAG", condition__code="pregnancy").get()
        rule_.delete()
        CoverageDecision.objects.filter(treatment__code="ERYAG",
                                        condition__code="pregnancy").delete()
        CoverageDecision.objects.filter(category__code="ablative_laser",
                                        condition__code="pregnancy").delete()

        status, out = review()

        assert status == 1
        assert "ERYAG" in out and "pregnancy" in out


@pytest.mark.django_db
class TestReviewPage:
    def test_a_catalogue_admin_sees_the_gaps_and_the_counts(self, client_as, catalogue_admin):
        response = client_as(catalogue_admin).get(reverse("admin:treatments_catalogue_review"))

        assert response.status_code == 200
        assert response.context["gaps"] == []
        assert "No candidate gaps." in response.text

    def test_a_clinician_is_refused(self, client_as, clinician):
        response = client_as(clinician).get(reverse("admin:treatments_catalogue_review"))

        assert response.status_code == 403

    def test_a_visitor_is_sent_to_sign_in(self, client):
        response = client.get(reverse("admin:treatments_catalogue_review"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("clinic:sign-in"))
