"""One engine: the recommendation page, a plan's check and `python manage.py recommend` give
the same answer for the same intake, date-derived flags and their lapse days included."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from consultations.plan_services import plan_create, plan_procedure_add
from consultations.selectors import course_check, plan_checks
from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory
from treatments.models import DatedQuestion, Treatment

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 11, 20)
ANSWERS = {"fitzpatrick": "IV", "concern_acne_scars": "severe",
           "condition_herpes_simplex_history": "yes", "condition_keloid_tendency": "yes",
           "dated_isotretinoin_last_dose": "date",
           "dated_isotretinoin_last_dose_date": "2026-09-01",
           "dated_last_tan": "date", "dated_last_tan_date": "2026-11-10"}
SAME_INTAKE_AS_JSON = {
    "fitzpatrick": "IV", "concerns": [{"code": "acne_scars", "severity": "severe"}],
    "conditions": ["herpes_simplex_history", "keloid_tendency"],
    "pregnancy_answer": "no", "treatment_area": "full_face", "skin_type": "combination",
    "as_of": DAY.isoformat(),
}


def flags_of(result):
    return sorted((f.code, f.severity, f.until and f.until.isoformat()) for f in result.flags)


def json_flags_of(result):
    return sorted((f["code"], f["severity"], f["until"]) for f in result["flags"])


def command_output(tmp_path, payload):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    out = io.StringIO()
    call_command("recommend", "--input", str(path), stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue())


def test_the_page_the_plan_and_the_command_give_the_same_answer(
        client_as, clinician, clinic, tmp_path):
    client = client_as(clinician)
    consultation = intake_submitted(client, PatientFactory(clinic=clinic),
                                    consultation_date=DAY.isoformat(), **ANSWERS)
    dated = {code: "never" for code in DatedQuestion.objects.values_list("code", flat=True)}
    dated.update(isotretinoin_last_dose="2026-09-01", last_tan="2026-11-10")

    page = client.get(reverse("consultations:consultation-recommendations",
                              args=[consultation.pk])).context["recommendation"]
    command = command_output(tmp_path, {**SAME_INTAKE_AS_JSON, "dated_answers": dated})

    assert sorted(page.conditions) == command["conditions"]
    assert [t.code for t in page.treatments if t.suitable] == command["recommended"]
    for result in page.treatments:
        from_command = command["treatments"][result.code]
        on_the_day = course_check(consultation, result.code, [DAY]).sessions[0][1]
        assert flags_of(result) == json_flags_of(from_command) == flags_of(on_the_day), \
            result.code
        assert result.excluded == from_command["excluded"] == on_the_day.excluded
        assert (result.suitable_from and result.suitable_from.isoformat()) == \
            from_command["suitable_from"]
    # The date-derived flags are really there, with their lapse days.
    assert ("isotretinoin_6m", "absolute", "2027-03-02") in json_flags_of(
        command["treatments"]["RF_MICRONEEDLING"])

    plan = plan_create(user=clinician, consultation=consultation)
    procedure = plan_procedure_add(user=clinician, plan=plan,
                                   treatment=Treatment.objects.get(code="MICRONEEDLING"),
                                   first_date=DAY, justification="Consensus allows it.")
    planned = plan_checks(plan)[procedure.pk]
    assert flags_of(planned.sessions[0][1]) == json_flags_of(
        command["treatments"]["MICRONEEDLING"])
