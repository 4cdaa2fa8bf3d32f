"""The catalogue browser clinicians use outside the admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from tests.factories import TreatmentFactory
from treatments.models import (
    AftercareStep,
    Condition,
    ContraindicationRule,
    EvidenceBasis,
    EvidenceSource,
    Treatment,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("treatments:treatment-list")


def detail_url(code):
    return reverse("treatments:treatment-detail", args=[code])


def listed_codes(response):
    return [t.code for t in response.context["treatments"]]


class TestList:
    def test_a_clinician_sees_all_27_treatments(self, client_as, clinician):
        response = client_as(clinician).get(LIST_URL)

        assert response.status_code == 200
        assert len(listed_codes(response)) == 27
        assert "27 treatments" in response.content.decode()

    def test_inactive_treatments_are_not_listed(self, client_as, clinician):
        Treatment.objects.filter(code="LED").update(active=False)

        codes = listed_codes(client_as(clinician).get(LIST_URL))

        assert "LED" not in codes
        assert len(codes) == 26

    @pytest.mark.parametrize("query, included, excluded", [
        ("concern=acne_scars", {"CO2_FRAC", "SILICONE_GEL", "SUBCISION"}, {"BOTOX", "IPL"}),
        ("mechanism=muscle_immobilization", {"BOTOX"}, {"CO2_FRAC"}),
        ("category=chemical_peel", {"PEEL_MANDELIC", "PEEL_TCA_MEDIUM"}, {"MICRODERM"}),
        ("depth=topical", {"SILICONE_GEL", "REPAIR_MASK", "LED"}, {"CO2_FRAC"}),
        ("text=peel", {"PEEL_MANDELIC"}, {"BOTOX"}),
        ("concern=acne_scars&depth=reticular_dermis", {"CO2_FRAC", "RF_MICRONEEDLING"},
         {"SUBCISION", "SILICONE_GEL"}),
    ])
    def test_filters_narrow_the_list(self, client_as, clinician, query, included, excluded):
        codes = set(listed_codes(client_as(clinician).get(f"{LIST_URL}?{query}")))

        assert included <= codes
        assert not excluded & codes

    def test_a_filter_value_that_is_not_in_the_catalogue_is_named_and_the_rest_still_apply(
            self, client_as, clinician):
        response = client_as(clinician).get(f"{LIST_URL}?concern=acne_scars&depth=bogus")

        form = response.context["filter_form"]
        assert "not in the catalogue" in form.errors["depth"][0]
        assert form["concern"].value() == "acne_scars"
        assert "BOTOX" not in listed_codes(response)

    def test_query_count_does_not_grow_with_the_catalogue(self, client_as, clinician):
        client = client_as(clinician)
        client.get(LIST_URL)  # warm up the session and content types
        with CaptureQueriesContext(connection) as shipped:
            client.get(LIST_URL)
        TreatmentFactory.create_batch(30)
        with CaptureQueriesContext(connection) as grown:
            response = client.get(LIST_URL)

        assert len(response.context["treatments"]) == 57
        assert len(grown) == len(shipped)

    def test_query_count_is_small(self, client_as, clinician, django_assert_max_num_queries):
        client = client_as(clinician)
        client.get(LIST_URL)  # the first request also starts the session's clock
        with django_assert_max_num_queries(13):
            client.get(LIST_URL)


class TestDetail:
    def test_shows_what_a_clinician_needs_to_decide(self, client_as, clinician):
        page = client_as(clinician).get(detail_url("CO2_FRAC")).content.decode()

        for text in [
            "Fractional CO2 laser",
            "What it treats", "Atrophic acne scars",
            "Not to be used for", "Melasma",
            "Absolute: rules the treatment out", "Pregnancy",
            "Relative: needs the clinician's written justification",
            "Before treatment", "Antiviral",
            "Aftercare", "Sessions", "Downtime", "4–7 days",
            "Fitzpatrick phototypes", "Where sources disagree",
        ]:
            assert text in page, text

    def test_each_contraindication_names_its_evidence(self, client_as, clinician):
        response = client_as(clinician).get(detail_url("CO2_FRAC"))
        page = response.content.decode()
        rule = response.context["treatment"].rules.all()[0]

        assert rule.severity == "absolute"  # absolute rules come first
        assert rule.rationale in page.replace("&#x27;", "'")
        for source in rule.sources.all():
            assert source.title.replace("'", "&#x27;") in page

    def test_unknown_and_inactive_treatments_are_404(self, client_as, clinician):
        client = client_as(clinician)
        Treatment.objects.filter(code="LED").update(active=False)

        assert client.get(detail_url("NO_SUCH")).status_code == 404
        assert client.get(detail_url("LED")).status_code == 404

    @pytest.mark.parametrize("code", ["CO2_FRAC", "PDL_VASCULAR", "SUBCISION", "REPAIR_MASK"])
    def test_every_kind_of_treatment_page_renders(self, client_as, clinician, code):
        assert client_as(clinician).get(detail_url(code)).status_code == 200

    def test_query_count_does_not_grow_with_what_a_treatment_holds(self, client_as, clinician):
        client = client_as(clinician)
        co2 = Treatment.objects.get(code="CO2_FRAC")
        client.get(detail_url("CO2_FRAC"))
        with CaptureQueriesContext(connection) as before:
            client.get(detail_url("CO2_FRAC"))
        basis = EvidenceBasis.objects.get(code="principle")
        sources = list(EvidenceSource.objects.all()[:3])
        for condition in Condition.objects.exclude(rules__treatment=co2)[:15]:
            rule = ContraindicationRule.objects.create(
                treatment=co2, condition=condition, severity="relative", basis=basis,
                confidence="low", rationale="Added for a test.")
            rule.sources.set(sources)
        for day in range(10):
            AftercareStep.objects.create(treatment=co2, position=20 + day, start_day=day,
                                         end_day=day, clinician_text="Test.", patient_text="Test.")
        with CaptureQueriesContext(connection) as after:
            response = client.get(detail_url("CO2_FRAC"))

        assert response.context["treatment"].rules.all().count() > 30
        assert len(after) == len(before)


class TestReviewedDecisions:
    def test_the_page_lists_what_was_reviewed_as_needing_no_rule_with_its_evidence(
            self, client_as, clinician):
        from treatments.models import CoverageDecision

        decision = CoverageDecision.objects.filter(
            category__code="topical_scar_product").select_related("condition").first()

        response = client_as(clinician).get(detail_url("SILICONE_GEL"))

        page = response.content.decode()
        reviewed = page.split("Reviewed: no rule needed")[1].split("</details>")[0]
        assert escape(decision.condition.label) in reviewed
        assert "decided for the whole category" in reviewed
        assert escape(decision.reason) in reviewed

    def test_a_rule_of_the_treatment_is_never_listed_as_needing_no_rule(self, client_as,
                                                                        clinician):
        response = client_as(clinician).get(detail_url("CO2_FRAC"))

        decided = {d.condition.code for d in response.context["treatment"].no_rule_decisions}
        ruled = set(response.context["treatment"].rules.values_list("condition__code",
                                                                    flat=True))
        assert decided and not decided & ruled
