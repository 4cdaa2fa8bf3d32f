"""Every form, fed arbitrary input: no server error, everything typed comes back on a
validation error, and a script in any free-text field is never rendered as markup."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consultations.models import Consultation
from consultations.plan_services import plan_create, plan_procedure_add, plan_share
from tests.consultations.intake_data import complete_intake
from tests.factories import PatientFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'
text = st.one_of(st.text(max_size=60), st.just(SCRIPT),
                 st.text(max_size=20).map(lambda t: t + SCRIPT))
examples = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def check(response, data, fields):
    assert response.status_code < 500
    page = response.content.decode()
    assert SCRIPT not in page
    if response.status_code == 200 and response.context and "form" in response.context:
        form = response.context["form"]
        if form.errors:
            for name in fields:
                value = form[name].value()
                assert (value or "") == data[name].replace("\x00", "") or \
                    str(value) == data[name], name


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 1, 1))


@examples
@given(name=text, phone=text, email=text, born=text)
def test_patient_form(client_as, clinician, name, phone, email, born):
    data = {"full_name": name, "phone": phone, "email": email, "date_of_birth": born,
            "preferred_language": "en"}
    response = client_as(clinician).post(reverse("consultations:patient-create"), data)
    check(response, data, ["full_name", "phone", "email", "date_of_birth"])


@examples
@given(notes=text, detail=text, when=text, severity=text)
def test_intake_form(client_as, clinician, patient, notes, detail, when, severity):
    data = complete_intake(clinician_notes=notes, condition_smoking="yes", detail_smoking=detail,
                           dated_last_tan="date", dated_last_tan_date=when,
                           concern_melasma=severity)
    response = client_as(clinician).post(
        reverse("consultations:consultation-create", args=[patient.pk]), data)
    check(response, data, ["clinician_notes", "detail_smoking", "dated_last_tan_date"])


@examples
@given(username=text, password=text)
def test_sign_in_form(username, password):
    data = {"username": username, "password": password}
    response = Client().post(reverse("clinic:sign-in"), data)
    assert response.status_code < 500 and SCRIPT not in response.content.decode()


@examples
@given(query=text)
def test_searches_and_filters(client_as, clinician, query):
    client = client_as(clinician)
    for url, params in ((reverse("consultations:patient-list"), {"q": query}),
                        (reverse("treatments:treatment-list"), {"text": query,
                                                                 "concern": query})):
        response = client.get(url, params)
        assert response.status_code < 500 and SCRIPT not in response.content.decode()


@pytest.fixture
def draft_plan(client_as, clinician, patient):
    client_as(clinician).post(reverse("consultations:consultation-create", args=[patient.pk]),
                              complete_intake())
    return plan_create(user=clinician, consultation=Consultation.objects.get())


@examples
@given(sessions=text, weeks=text, first=text, notes=text, justification=text)
def test_planned_procedure_form(client_as, clinician, draft_plan, sessions, weeks, first,
                                notes, justification):
    data = {"treatment": "MICRODERM", "sessions": sessions, "interval_weeks": weeks,
            "first_date": first, "notes": notes, "justification": justification}
    response = client_as(clinician).post(
        reverse("consultations:plan-procedure-add", args=[draft_plan.pk]), data)
    check(response, data, ["notes", "justification"])


@examples
@given(born=text, question=text)
def test_patient_link_forms(clinician, draft_plan, born, question, settings):
    settings.PLAN_LINK_RETRY_SECONDS = 0
    if not draft_plan.procedures.exists():
        plan_procedure_add(user=clinician, plan=draft_plan,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))
    _link, token = plan_share(user=clinician, plan=draft_plan, link_url=str)
    visitor = Client()
    response = visitor.post(f"/p/{token}/", {"date_of_birth": born})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()
    visitor.post(f"/p/{token}/", {"date_of_birth": "1990-01-01"})
    response = visitor.post(f"/p/{token}/question/", {"message": question})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()


@examples
@given(code=text)
def test_two_step_code_form(client_as, clinician, code, settings):
    settings.REQUIRE_TWO_FACTOR = True
    response = client_as(clinician).post(reverse("clinic:two-factor-setup"), {"code": code})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()
    response = client_as(clinician).post(reverse("clinic:two-factor-setup"),
                                         {"enrolment_code": code})
    assert response.status_code < 500 and SCRIPT not in response.content.decode()
