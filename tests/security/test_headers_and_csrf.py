"""Response headers, the production settings' deployment check, CSRF on every state-changing
view, and identifiers in a form body never trusted over the URL's own checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from consultations.models import Consultation, PlannedProcedure
from consultations.plan_services import plan_create, plan_procedure_add
from tests.consultations.intake_data import complete_intake
from tests.factories import PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db
PROJECT = Path(__file__).resolve().parents[2]


class TestHeaders:
    def test_content_security_policy_has_nonces_and_nothing_unsafe(self, client_as, clinician):
        response = client_as(clinician).get(reverse("treatments:treatment-list"))
        policy = response["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))

        assert "'nonce-" in directives["script-src"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert directives["object-src"] == "'none'"
        assert directives["base-uri"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        nonce = directives["script-src"].split("'nonce-")[1].split("'")[0]
        assert f'nonce="{nonce}"' in response.content.decode()

    def test_no_inline_script_or_style_in_our_pages(self, client_as, clinician):
        page = client_as(clinician).get(reverse("treatments:treatment-detail",
                                                args=["CO2_FRAC"])).content.decode()

        assert " style=" not in page
        assert "<script>" not in page

    def test_security_headers(self, client_as, clinician, settings):
        response = client_as(clinician).get(reverse("treatments:treatment-list"), secure=True)

        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Strict-Transport-Security"].startswith("max-age=31536000")

    def test_plain_http_is_redirected_to_https_by_default(self, client, settings):
        settings.SECURE_SSL_REDIRECT = True

        response = Client().get("/healthz")

        assert response.status_code == 301 and response.url.startswith("https://")


def run_manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DEMO_"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT,
                          env={**clean, "DJANGO_ENV_FILE": "/nonexistent", **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deployment_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        DJANGO_SECRET_KEY="k3-" + "x7Q!pL9#mZ2@vB8$nR4%" * 4,
                        DJANGO_ALLOWED_HOSTS="clinic.example.com",
                        DATABASE_URL="sqlite:///:memory:")

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("proxies, passes", [("0", False), ("1", True)])
def test_behind_a_proxy_the_deployment_check_asks_how_many_to_trust(proxies, passes):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING",
                        DJANGO_SECRET_KEY="k3-" + "x7Q!pL9#mZ2@vB8$nR4%" * 4,
                        DJANGO_ALLOWED_HOSTS="clinic.example.com",
                        DATABASE_URL="sqlite:///:memory:",
                        DJANGO_BEHIND_HTTPS_PROXY="1", DJANGO_TRUSTED_PROXY_COUNT=proxies)

    assert (result.returncode == 0) == passes, result.stdout + result.stderr
    assert ("clinic.W001" in result.stdout + result.stderr) != passes


@pytest.fixture
def world(client_as, clinician, clinic):
    patient = PatientFactory(clinic=clinic)
    client_as(clinician).post(reverse("consultations:consultation-create", args=[patient.pk]),
                              complete_intake())
    consultation = Consultation.objects.get()
    plan = plan_create(user=clinician, consultation=consultation)
    procedure = plan_procedure_add(user=clinician, plan=plan,
                                   treatment=Treatment.objects.get(code="SILICONE_GEL"))
    return {"patient": patient, "consultation": consultation, "plan": plan,
            "procedure": procedure}


def state_changing_urls(world):
    patient, consultation, plan = world["patient"], world["consultation"], world["plan"]
    return [
        reverse("consultations:patient-create"),
        reverse("consultations:patient-edit", args=[patient.pk]),
        reverse("consultations:consultation-create", args=[patient.pk]),
        reverse("consultations:consultation-edit", args=[consultation.pk]),
        reverse("consultations:plan-create", args=[consultation.pk]),
        reverse("consultations:plan-procedure-add", args=[plan.pk]) + "?treatment=MICRODERM",
        reverse("consultations:plan-procedure-remove", args=[plan.pk, world["procedure"].pk]),
        reverse("consultations:plan-status", args=[plan.pk]),
        reverse("consultations:plan-review", args=[plan.pk]),
        reverse("consultations:plan-share", args=[plan.pk]),
        reverse("clinic:sign-out"),
        reverse("clinic:two-factor"),
        reverse("admin:treatments_treatment_add"),
    ]


def test_every_state_changing_view_needs_its_csrf_token(world, clinician, superuser):
    for user in (clinician, superuser):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(user)
        for url in state_changing_urls(world):
            response = strict.post(url, {"sessions": "1", "to": "withdrawn"})
            assert response.status_code == 403, url
    assert PlannedProcedure.objects.filter(pk=world["procedure"].pk).exists()
    world["plan"].refresh_from_db()
    assert world["plan"].status == "draft"


def test_sign_in_itself_needs_the_csrf_token(clinician):
    from tests.factories import PASSWORD

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("clinic:sign-in"),
                           {"username": clinician.username, "password": PASSWORD})

    assert response.status_code == 403


class TestIdentifiersInTheBody:
    def test_a_procedure_of_another_plan_cannot_be_removed_through_this_one(
            self, world, client_as, clinician, clinic):
        other_patient = PatientFactory(clinic=clinic)
        client = client_as(clinician)
        client.post(reverse("consultations:consultation-create", args=[other_patient.pk]),
                    complete_intake())
        other_plan = plan_create(user=clinician,
                                 consultation=Consultation.objects.get(patient=other_patient))
        other = plan_procedure_add(user=clinician, plan=other_plan,
                                   treatment=Treatment.objects.get(code="SILICONE_GEL"))

        response = client.post(reverse("consultations:plan-procedure-remove",
                                       args=[world["plan"].pk, other.pk]))

        assert response.status_code == 404
        assert PlannedProcedure.objects.filter(pk=other.pk).exists()

    def test_a_patient_or_clinic_named_in_the_intake_body_is_ignored(
            self, world, client_as, clinician, other_clinic):
        stranger = PatientFactory(clinic=other_clinic)
        consultation = world["consultation"]

        client_as(clinician).post(
            reverse("consultations:consultation-edit", args=[consultation.pk]),
            complete_intake(version=str(consultation.version), patient=str(stranger.pk),
                            clinic=str(other_clinic.pk), clinician=str(stranger.pk)))

        consultation.refresh_from_db()
        assert consultation.patient == world["patient"]
        assert not stranger.consultations.exists()

    def test_a_justification_for_a_procedure_of_another_clinic_is_ignored(
            self, world, client_as, clinician, other_clinic):
        outsider = UserFactory(clinic=other_clinic, role="Clinician")

        response = client_as(outsider).post(
            reverse("consultations:plan-review", args=[world["plan"].pk]),
            {f"justification_{world['procedure'].pk}": "Taken over."})

        assert response.status_code == 404
        world["procedure"].refresh_from_db()
        assert world["procedure"].justification == ""
