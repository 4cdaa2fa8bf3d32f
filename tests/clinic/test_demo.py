"""The demo data `make run` loads: a clinic, two accounts and a few patients' intakes."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from consultations.models import Consultation, Patient, TreatmentPlan

pytestmark = pytest.mark.django_db


def test_loads_staff_and_patients_and_can_run_again(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a-long-demo-password")
    out = StringIO()

    call_command("load_demo", stdout=out)
    call_command("load_demo", stdout=StringIO())

    assert "username: clinician" in out.getvalue()
    assert "a-long-demo-password" in out.getvalue()
    clinician = User.objects.get(username="clinician")
    admin = User.objects.get(username="catalogue-admin")
    assert clinician.check_password("a-long-demo-password")
    assert admin.check_password("a-long-demo-password") and admin.is_staff
    assert Patient.objects.count() == 5
    assert Consultation.objects.filter(status="submitted").count() == 4
    assert Consultation.objects.filter(status="draft").count() == 1
    plan = TreatmentPlan.objects.get()
    assert plan.status == "shared"
    justified = plan.procedures.exclude(justification="").get()
    assert justified.treatment.code == "MICRONEEDLING"
    assert ["isotretinoin_6m", "relative"] in justified.reviewed_flags


def test_demo_intakes_show_the_conflict_policies(client, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "a-long-demo-password")
    call_command("load_demo", stdout=StringIO())
    client.force_login(User.objects.get(username="clinician"))
    priya = Consultation.objects.get(patient__full_name="Priya Nair")

    notices = client.get(f"/consultations/{priya.pk}/").context["notices"]

    assert {n.policy for n in notices} == {"diabetes_both_answers",
                                           "no_medications_contradiction"}
