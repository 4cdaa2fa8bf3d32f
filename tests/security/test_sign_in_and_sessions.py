"""Sign-in protection (lockout basics, two-step codes), session limits, and an intake that
outlives its session."""

import time

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.services import enrolment_code_issue
from consultations.models import Consultation
from tests.consultations.intake_data import complete_intake
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("clinic:sign-in")


def sign_in(client, username, password=PASSWORD, **extra):
    return client.post(SIGN_IN, {"username": username, "password": password}, **extra)


class TestLockout:
    """The counts themselves (per account and address, per address, the wait while an
    account is under attack) are specified in test_lockout.py."""

    def test_fewer_failures_do_not_lock_and_failures_are_logged(self, clinician, caplog):
        for _ in range(4):
            sign_in(Client(), clinician.username, "wrong")

        assert sign_in(Client(), clinician.username).status_code == 302
        assert any("failed" in record.getMessage().lower() for record in caplog.records)

    def test_the_lock_lifts_after_thirty_minutes(self, clinician, settings):
        assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60


class TestTwoStepSignIn:
    @pytest.fixture(autouse=True)
    def required(self, settings):
        settings.REQUIRE_TWO_FACTOR = True

    def code(self, device):
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        return f"{totp.token():06d}"

    def test_a_password_alone_reaches_no_page(self, client, clinician):
        TOTPDevice.objects.create(user=clinician, name="Phone", confirmed=True)
        sign_in(client, clinician.username)

        response = client.get(reverse("consultations:patient-list"))

        assert response.status_code == 302
        assert response.url == reverse("clinic:two-factor")

    def test_a_wrong_code_is_refused_and_the_right_one_lets_in(self, client, clinician,
                                                               settings):
        settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no pause after the wrong code, for the test
        device = TOTPDevice.objects.create(user=clinician, name="Phone", confirmed=True)
        sign_in(client, clinician.username)

        wrong = client.post(reverse("clinic:two-factor"), {"code": "000000"})
        assert "not right" in wrong.content.decode()

        right = client.post(reverse("clinic:two-factor"), {"code": self.code(device)})
        assert right.status_code == 302
        assert client.get(reverse("consultations:patient-list")).status_code == 200

    def test_a_first_sign_in_links_an_authenticator(self, client, clinician, superuser):
        _enrolment, enrolment_code = enrolment_code_issue(user=superuser, account=clinician)
        sign_in(client, clinician.username)

        page = client.get(reverse("clinic:two-factor"), follow=True)
        assert page.redirect_chain[-1][0] == reverse("clinic:two-factor-setup")
        assert "<svg" not in page.content.decode()
        page = client.post(reverse("clinic:two-factor-setup"),
                           {"enrolment_code": enrolment_code})
        assert "<svg" in page.content.decode()
        device = TOTPDevice.objects.get(user=clinician, confirmed=False)

        client.post(reverse("clinic:two-factor-setup"), {"code": self.code(device)})

        device.refresh_from_db()
        assert device.confirmed
        assert client.get(reverse("consultations:patient-list")).status_code == 200

    def test_the_demo_may_turn_it_off(self, client, clinician, settings):
        settings.REQUIRE_TWO_FACTOR = False
        sign_in(client, clinician.username)

        assert client.get(reverse("consultations:patient-list")).status_code == 200


class TestSessions:
    def test_signing_in_gives_a_new_session_key(self, client, clinician):
        client.get(SIGN_IN)
        client.session.save()
        before = client.session.session_key

        sign_in(client, clinician.username)

        assert client.session.session_key != before

    def test_thirty_idle_minutes_sign_out(self, client, clinician):
        sign_in(client, clinician.username)
        session = client.session
        session["last-activity"] = time.time() - 31 * 60
        session.save()

        response = client.get(reverse("consultations:patient-list"))

        assert response.status_code == 302 and response.url.startswith(SIGN_IN)
        assert not Session.objects.filter(session_key=session.session_key).exists()

    def test_activity_keeps_the_session_until_twelve_hours(self, client, clinician):
        sign_in(client, clinician.username)
        session = client.session
        session["signed-in-at"] = time.time() - 11 * 3600
        session.save()
        assert client.get(reverse("consultations:patient-list")).status_code == 200

        session = client.session
        session["signed-in-at"] = time.time() - 12 * 3600 - 60
        session.save()
        assert client.get(reverse("consultations:patient-list")).status_code == 302

    def test_an_intake_submitted_after_expiry_is_kept_and_offered_back(self, client,
                                                                       clinician, clinic):
        patient = PatientFactory(clinic=clinic)
        sign_in(client, clinician.username)
        url = reverse("consultations:consultation-create", args=[patient.pk])
        csrf_client = Client(enforce_csrf_checks=True)
        csrf_client.cookies = client.cookies
        token = csrf_client.get(url).context["csrf_token"]
        session = client.session
        session["last-activity"] = time.time() - 31 * 60
        session.save()
        csrf_client.cookies = client.cookies

        expired = csrf_client.post(url, {**complete_intake(clinician_notes="Typed late."),
                                         "csrfmiddlewaretoken": str(token)})

        assert expired.status_code == 302 and expired.url.startswith(SIGN_IN)
        assert Consultation.objects.count() == 0
        client.cookies = csrf_client.cookies
        sign_in(client, clinician.username)
        page = client.get(url)
        assert "kept the answers" in page.content.decode()
        assert page.context["form"]["clinician_notes"].value() == "Typed late."
        assert Consultation.objects.count() == 0  # offered, not saved behind the user's back
