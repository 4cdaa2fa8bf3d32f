"""The recommendation page says where the catalogue is silent: a patient's condition that has
neither a rule nor a reviewed decision for a procedure is shown on that procedure as not
reviewed, never as clear; a pre-treatment step unsafe for the patient is replaced or flagged."""

import pytest
from django.urls import reverse

from tests.consultations.intake_data import intake_submitted as submit
from tests.factories import PatientFactory
from treatments.models import ContraindicationRule, CoverageDecision, Treatment
from treatments.services import catalogue_record_delete

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Aiko Tanaka")


def silence(actor, treatment_code, condition_code):
    """Remove whatever covers the pair, as an admin would, so that it is not reviewed."""
    treatment = Treatment.objects.get(code=treatment_code)
    for record in [*ContraindicationRule.objects.filter(treatment=treatment,
                                                        condition__code=condition_code),
                   *CoverageDecision.objects.filter(treatment=treatment,
                                                    condition__code=condition_code),
                   *CoverageDecision.objects.filter(category=treatment.category,
                                                    condition__code=condition_code)]:
        catalogue_record_delete(actor=actor, instance=record)


def section(page, code):
    return page.split(f'id="treatment-{code}"')[1].split("</article>")[0]


def test_a_condition_not_reviewed_for_a_procedure_is_shown_on_it(client_as, clinician,
                                                                   catalogue_admin, patient):
    silence(catalogue_admin, "SILICONE_GEL", "epilepsy")
    consultation = submit(client_as(clinician), patient, condition_epilepsy="yes",
                          concern_scars_hypertrophic_keloid="moderate")

    response = client_as(clinician).get(
        reverse("consultations:consultation-recommendations", args=[consultation.pk]))

    gel = next(t for t in response.context["recommendation"].treatments
               if t.code == "SILICONE_GEL")
    assert gel.unreviewed == ("epilepsy",)
    card = section(response.text, "SILICONE_GEL")
    assert "Not reviewed for" in card and "Epilepsy" in card
    assert "unknowns, not clear" in card


def test_with_the_shipped_catalogue_nothing_is_left_unreviewed(client_as, clinician, patient):
    consultation = submit(client_as(clinician), patient, condition_epilepsy="yes",
                          condition_pregnancy="yes", condition_heart_disease="yes",
                          concern_acne_scars="moderate")

    response = client_as(clinician).get(
        reverse("consultations:consultation-recommendations", args=[consultation.pk]))

    assert all(t.unreviewed == () for t in response.context["recommendation"].treatments)
    assert "Not reviewed for" not in response.text


def test_a_step_unsafe_when_planning_a_pregnancy_is_replaced_by_its_alternative(
        client_as, clinician, patient):
    consultation = submit(client_as(clinician), patient, condition_planning_pregnancy="yes",
                          concern_melasma="moderate", fitzpatrick="IV")

    response = client_as(clinician).get(
        reverse("consultations:consultation-recommendations", args=[consultation.pk]))

    recommendation = response.context["recommendation"]
    steps = [step for t in recommendation.treatments for step in t.requirements]
    assert not any(step.code == "pigment_priming" and not step.unsafe for step in steps)
    swapped = [(t.code, step) for t in recommendation.recommended for step in t.requirements
               if step.replaces == "pigment_priming"]
    assert swapped, "a suitable peel proposes priming for a type IV skin with melasma"
    code, step = swapped[0]
    assert step.code == "pigment_priming_azelaic_acid"
    card = section(response.text, code)
    assert "Proposed instead of" in card and "Pigment priming" in card
