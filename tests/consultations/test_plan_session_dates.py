"""Plans check each session at its own date: inside a date-derived window it carries that
window's flag (refused when absolute), after it the flag is gone."""

import datetime

import pytest
from django.urls import reverse

from consultations.models import PlannedProcedure
from consultations.plan_services import PlanRuleError, plan_create, plan_procedure_add
from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

LAST_DOSE = datetime.date(2026, 9, 1)  # six months end 1 March 2027, twelve 1 September


@pytest.fixture
def plan(client_as, clinician, clinic):
    patient = PatientFactory(clinic=clinic)
    consultation = intake_submitted(
        client_as(clinician), patient, consultation_date="2026-11-20",
        dated_isotretinoin_last_dose="date",
        dated_isotretinoin_last_dose_date=LAST_DOSE.isoformat())
    return plan_create(user=clinician, consultation=consultation)


RF = "RF_MICRONEEDLING"  # absolute within six months of isotretinoin (its instructions)


def test_a_session_inside_an_absolute_window_is_refused_with_the_day_it_becomes_possible(
        clinician, plan):
    with pytest.raises(PlanRuleError) as refused:
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=RF),
                           first_date=datetime.date(2027, 1, 10), justification="x")

    assert "2027-01-10" in refused.value.message
    assert "possible from" in refused.value.message
    assert refused.value.field == "first_date"
    assert not PlannedProcedure.objects.exists()


def test_a_course_whose_later_sessions_fall_inside_is_refused_too(clinician, plan):
    # Three sessions four weeks apart from 1 February: all before 2 March 2027.
    with pytest.raises(PlanRuleError, match="2027-02-01"):
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=RF),
                           sessions=3, interval_weeks=4, first_date=datetime.date(2027, 2, 1),
                           justification="x")


def test_sessions_after_the_window_are_accepted_with_the_flags_that_remain(clinician, plan):
    treatment = Treatment.objects.get(code=RF)
    result_day = datetime.date(2027, 9, 10)  # after both the six- and twelve-month windows

    procedure = plan_procedure_add(user=clinician, plan=plan, treatment=treatment,
                                   first_date=result_day, justification="")

    assert not any(code.startswith("isotretinoin") for code, _s in procedure.reviewed_flags)


def test_a_relative_window_needs_a_justification_only_for_sessions_inside_it(clinician,
                                                                             plan):
    needling = Treatment.objects.get(code="MICRONEEDLING")  # relative within 6 and 12 months

    with pytest.raises(PlanRuleError, match="isotretinoin"):
        plan_procedure_add(user=clinician, plan=plan, treatment=needling,
                           first_date=datetime.date(2027, 1, 10))

    procedure = plan_procedure_add(user=clinician, plan=plan, treatment=needling,
                                   first_date=datetime.date(2027, 1, 10),
                                   justification="Consensus allows needling after isotretinoin.")
    assert ["isotretinoin_6m", "relative"] in procedure.reviewed_flags


def test_the_add_page_shows_the_refusal_beside_the_date_and_keeps_the_input(
        client_as, clinician, plan):
    url = reverse("consultations:plan-procedure-add", args=[plan.pk])

    response = client_as(clinician).post(url, {"treatment": RF, "sessions": "2",
                                               "interval_weeks": "6", "first_date": "2027-01-10",
                                               "notes": "Cheeks", "justification": "x"})

    form = response.context["form"]
    assert "possible from" in " ".join(form.errors["first_date"])
    assert form["notes"].value() == "Cheeks"
