"""Signed consent: the patient reads the consent text for a planned procedure and signs it
(a drawn signature, or their typed name only); the record keeps exactly what they were shown
and is never changed; a later change supersedes it; in the clinic, the patient signs on the
clinician's screen after a hand-over that hides the staff pages."""

import base64
import datetime
import hashlib
import struct
import zlib

import pytest
from django.contrib.admin.sites import site
from django.test import Client
from django.urls import reverse

from clinic.models import AuditEvent
from consultations.consent import consent_document, consent_states
from consultations.models import SignedConsent
from consultations.plan_services import (
    plan_create,
    plan_procedure_add,
    plan_procedure_reschedule,
    plan_share,
    plan_status_change,
)
from tests.consultations.intake_data import complete_intake, intake_submitted
from tests.factories import PASSWORD, PatientFactory
from treatments.models import Treatment, TreatmentConsent
from treatments.services import catalogue_record_save

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1988, 8, 8)


def png_data_url(width=4, height=2):
    """A tiny real PNG, as the signature box sends it."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                              0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def shared(client_as, clinician, clinic):
    patient = PatientFactory(clinic=clinic, full_name="Nora Byrne", date_of_birth=BIRTH)
    consultation = intake_submitted(client_as(clinician), patient)
    plan = plan_create(user=clinician, consultation=consultation)
    procedure = plan_procedure_add(user=clinician, plan=plan,
                                   treatment=Treatment.objects.get(code="MICRONEEDLING"),
                                   first_date=datetime.date(2027, 2, 1))
    _link, token = plan_share(user=clinician, plan=plan, link_url=str)
    visitor = Client(HTTP_USER_AGENT="TestBrowser/1.0")
    visitor.post(f"/p/{token}/", {"date_of_birth": BIRTH.isoformat()})
    return plan, procedure, token, visitor


def consent_url(token, procedure):
    return f"/p/{token}/consent/{procedure.pk}/"


def sign(visitor, token, procedure, **fields):
    page = visitor.get(consent_url(token, procedure))
    data = {"shown": page.context["document"]["sha256"], "typed_name": "Nora Byrne",
            "agreed": "on", "signature": png_data_url(), **fields}
    return visitor.post(consent_url(token, procedure), {k: v for k, v in data.items()
                                                        if v is not None})


class TestThePatientSigns:
    def test_a_drawn_signature_is_kept_with_exactly_the_text_shown(self, shared):
        plan, procedure, token, visitor = shared
        shown = visitor.get(consent_url(token, procedure)).context["document"]

        response = sign(visitor, token, procedure)

        assert response.status_code == 302
        consent = SignedConsent.objects.get()
        assert consent.text == shown["text"]
        assert consent.text_sha256 == hashlib.sha256(consent.text.encode()).hexdigest()
        assert "Microneedling" in consent.text and "Rare but serious risks" in consent.text
        assert consent.signature == png_data_url()
        assert (consent.typed_name, consent.user_agent, consent.in_clinic) == (
            "Nora Byrne", "TestBrowser/1.0", False)
        assert consent.ip_address == "127.0.0.1"
        assert consent.consent_version == procedure.treatment.consent.version
        assert consent_states(plan, [procedure])[procedure.pk][0] == "signed"
        page = visitor.get(f"/p/{token}/").content.decode()
        assert "signed on" in page

    def test_keyboard_users_sign_with_their_typed_name_only(self, shared):
        _plan, procedure, token, visitor = shared

        sign(visitor, token, procedure, signature=None, typed_only="on",
             typed_name="  nora   BYRNE ")

        consent = SignedConsent.objects.get()
        assert consent.signature == "" and consent.typed_name == "nora BYRNE"

    @pytest.mark.parametrize("fields, field, message", [
        ({"typed_name": "Someone Else"}, "typed_name", "Type your full name"),
        ({"agreed": None}, "agreed", "Tick the box"),
        ({"signature": None}, "signature", "Sign in the box"),
        ({"signature": "data:image/png;base64,bm90IGEgcG5n"}, "signature", "could not be read"),
        ({"signature": "<script>alert(1)</script>"}, "signature", "could not be read"),
    ])
    def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(
            self, shared, fields, field, message):
        _plan, procedure, token, visitor = shared

        response = sign(visitor, token, procedure, **fields)

        assert response.status_code == 200
        assert message in response.context["errors"][field]
        assert response.context["values"]["typed_name"] == fields.get("typed_name",
                                                                      "Nora Byrne")
        assert not SignedConsent.objects.exists()

    def test_a_text_changed_since_it_was_shown_must_be_read_again(self, shared,
                                                                 catalogue_admin):
        _plan, procedure, token, visitor = shared
        shown = visitor.get(consent_url(token, procedure)).context["document"]["sha256"]
        consent_text = TreatmentConsent.objects.get(treatment=procedure.treatment)
        consent_text.serious_risks += " Rarely, a small scar."
        catalogue_record_save(actor=catalogue_admin, instance=consent_text, changes={},
                              created=False)

        response = sign(visitor, token, procedure, shown=shown)

        assert "has changed since you opened it" in response.content.decode()
        assert not SignedConsent.objects.exists()
        assert response.context["document"]["sha256"] != shown  # the new text is shown

    def test_the_patient_and_the_staff_download_it_as_a_pdf(self, shared, client_as,
                                                            clinician):
        plan, procedure, token, visitor = shared
        sign(visitor, token, procedure)
        consent = SignedConsent.objects.get()

        mine = visitor.get(f"/p/{token}/consents/{consent.pk}/pdf/")
        staff = client_as(clinician).get(reverse("consultations:plan-consent-pdf",
                                                 args=[plan.pk, consent.pk]))

        assert mine.content[:5] == staff.content[:5] == b"%PDF-"

    def test_a_procedure_on_hold_cannot_be_consented_to(self, shared, client_as, clinician):
        plan, procedure, token, visitor = shared
        consultation = plan.consultation
        client_as(clinician).post(
            reverse("consultations:consultation-edit", args=[consultation.pk]),
            complete_intake(version=str(consultation.version), condition_keloid_tendency="yes"))

        response = sign(visitor, token, procedure)

        assert "reviewing this treatment" in response.content.decode()
        assert not SignedConsent.objects.exists()


class TestASignedConsentIsKept:
    @pytest.fixture
    def signed(self, shared):
        plan, procedure, token, visitor = shared
        sign(visitor, token, procedure)
        return plan, procedure, SignedConsent.objects.get()

    def test_it_can_never_be_changed_or_deleted(self, signed):
        _plan, _procedure, consent = signed
        consent.typed_name = "Someone Else"

        with pytest.raises(ValueError):
            consent.save()
        with pytest.raises(ValueError):
            consent.delete()

    def test_the_admin_shows_it_read_only(self, signed, rf, superuser):
        admin = site._registry[SignedConsent]
        request = rf.get("/")
        request.user = superuser

        assert not admin.has_add_permission(request)
        assert not admin.has_change_permission(request, signed[2])
        assert not admin.has_delete_permission(request, signed[2])

    def test_the_admin_list_records_whose_consents_it_showed(self, signed, client_as,
                                                             superuser):
        plan, _procedure, _consent = signed

        page = client_as(superuser).get(reverse("admin:consultations_signedconsent_changelist"))

        assert "Nora Byrne" in page.content.decode()
        shown = AuditEvent.objects.filter(action="listed")
        assert [(e.actor, e.patient) for e in shown] == [
            (superuser, plan.consultation.patient)]

    def test_a_moved_date_supersedes_it(self, signed, clinician):
        plan, procedure, _consent = signed
        plan_status_change(user=clinician, plan=plan, to="draft")

        plan_procedure_reschedule(user=clinician, plan=plan, procedure=procedure,
                                  first_date=datetime.date(2027, 3, 1))

        procedure.refresh_from_db()
        assert consent_states(plan, [procedure])[procedure.pk][0] == "superseded"

    def test_a_new_consent_text_supersedes_it(self, signed, catalogue_admin):
        plan, procedure, _consent = signed
        text = TreatmentConsent.objects.get(treatment=procedure.treatment)
        text.alternatives += " A chemical peel is another option."
        catalogue_record_save(actor=catalogue_admin, instance=text, changes={}, created=False)

        assert consent_states(plan, [procedure])[procedure.pk][0] == "superseded"

    def test_it_reaches_the_inbox_until_seen(self, signed, client_as, clinician):
        plan, _procedure, consent = signed
        client = client_as(clinician)
        assert [c.pk for c in client.get(reverse("clinic:home")).context["inbox"][
            "consents"]] == [consent.pk]

        client.post(reverse("consultations:plan-consent-seen", args=[plan.pk, consent.pk]))

        assert not client.get(reverse("clinic:home")).context["inbox"]["consents"]
        consent.refresh_from_db()
        assert consent.seen_at is not None and consent.typed_name == "Nora Byrne"


class TestInTheClinic:
    def test_the_patient_signs_on_the_clinicians_screen_after_a_hand_over(
            self, shared, client_as, clinician):
        plan, procedure, _token, _visitor = shared
        client = client_as(clinician)
        start = reverse("consultations:plan-consent", args=[plan.pk, procedure.pk])
        sign_url = reverse("consultations:plan-consent-sign", args=[plan.pk, procedure.pk])
        # Not without the hand-over step.
        assert client.get(sign_url).url == start

        client.post(start)
        # While handed over, staff pages lead back to the consent page.
        assert client.get(reverse("consultations:patient-list")).url == sign_url
        page = client.get(sign_url)
        assert page.status_code == 200
        assert "navbar" not in page.content.decode()  # no staff navigation
        handback = reverse("consultations:plan-consent-handback", args=[plan.pk])
        assert f'href="{handback}"' in page.content.decode()  # "Not now": back, by password
        signed = client.post(sign_url, {"shown": page.context["document"]["sha256"],
                                        "typed_name": "Nora Byrne", "agreed": "on",
                                        "typed_only": "on"})
        handback = reverse("consultations:plan-consent-handback", args=[plan.pk])
        assert signed.url == handback
        assert client.get(reverse("clinic:home")).url == handback

        wrong = client.post(handback, {"password": "not it"})
        assert "That is not your password" in wrong.content.decode()
        assert client.get(reverse("clinic:home")).url == handback
        back = client.post(handback, {"password": PASSWORD})

        assert back.url == reverse("consultations:plan-detail", args=[plan.pk])
        assert client.get(reverse("clinic:home")).status_code == 200
        consent = SignedConsent.objects.get()
        assert consent.in_clinic and consent.handed_over_by == clinician
        assert consent.text == consent_document(procedure, "en-gb")["text"]
