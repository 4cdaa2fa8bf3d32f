"""The recommendation page says when a date-derived contraindication lapses, and from when
an excluded procedure becomes possible."""

import datetime

import pytest
from django.urls import reverse

from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_a_dated_exclusion_shows_its_lapse_and_when_the_procedure_becomes_possible(
        client_as, clinician, clinic):
    patient = PatientFactory(clinic=clinic)
    client = client_as(clinician)
    consultation = intake_submitted(client, patient, consultation_date="2026-11-20",
                                    dated_isotretinoin_last_dose="date",
                                    dated_isotretinoin_last_dose_date="2026-09-01")

    response = client.get(reverse("consultations:consultation-recommendations",
                                  args=[consultation.pk]))

    rf = next(t for t in response.context["recommendation"].treatments
              if t.code == "RF_MICRONEEDLING")
    assert rf.excluded and rf.suitable_from is not None
    assert rf.suitable_from >= datetime.date(2027, 3, 2)
    card = response.text.split('id="excluded-RF_MICRONEEDLING"')[1].split("</article>")[0]
    assert "Possible from" in card
    assert "No longer applies from 2 March 2027" in card
