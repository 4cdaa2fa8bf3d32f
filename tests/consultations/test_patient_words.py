"""What the patient reads: their pages and PDF carry no catalogue code, no evidence
vocabulary and nothing written for the staff, in English and in Chinese; dates follow the
page's language and the clinic's locale; the clinic's phone is a tap-to-call link."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation
from django.utils.html import strip_tags

from consultations.models import PlannedProcedure, TreatmentPlan
from consultations.patient_plan import patient_plan_page
from consultations.plan_services import plan_create, plan_share
from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory
from treatments.models import Condition, DatedQuestion, Disagreement, EvidenceSource, Treatment

pytestmark = pytest.mark.django_db

EVIDENCE_WORDS = re.compile(
    r"\b(basis|confidence|sourced|unsourced|sources?|textbook|consensus|guideline|trials?|"
    r"disagreement|at the physician's discretion)\b", re.IGNORECASE)
STAFF_ONLY = ("CLINICAL-NOTE-FOR-STAFF", "JUSTIFICATION-FOR-THE-RECORD")
DOUBLED = re.compile(r"(?<!\.)\.\.(?!\.)|。。|[.。][.。]|,,|，，|::|：：")


def forbidden_in(text):
    """Everything a patient must not read, found in the text of a rendered page."""
    words = strip_tags(text)
    found = [match.group(0) for match in EVIDENCE_WORDS.finditer(words)]
    # Lower-case codes of one word (pregnancy, smoking) are also plain words.
    codes = set(Treatment.objects.values_list("code", flat=True)) | {
        code for code in [*Condition.objects.values_list("code", flat=True),
                          *DatedQuestion.objects.values_list("code", flat=True)]
        if "_" in code}
    # A code that is also the treatment's everyday name (PRP, IPL, HIFU) may be read.
    names = " ".join(Treatment.objects.values_list("name", flat=True))
    found += [code for code in codes if code not in names
              and re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", words)]
    found += [key for key in EvidenceSource.objects.values_list("key", flat=True)
              if key in words]
    found += [code for code in Disagreement.objects.values_list("code", flat=True)
              if re.search(rf"\b{code}\b", words)]
    found += [marker for marker in STAFF_ONLY if marker in text]
    found += DOUBLED.findall(words)
    return found


@pytest.fixture
def everything_planned(client_as, clinician, clinic):
    """A plan holding every shipped bookable treatment, for a patient whose answers call for
    cautions and pre-treatment steps, with staff-only notes on every procedure."""
    patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 3, 4))
    consultation = intake_submitted(
        client_as(clinician), patient, fitzpatrick="V", concern_melasma="moderate",
        concern_hyperpigmentation="severe", condition_herpes_simplex_history="yes",
        condition_keloid_tendency="yes", condition_diabetes_controlled="yes",
        condition_smoking="yes", condition_topical_retinoid_use="yes")
    plan = plan_create(user=clinician, consultation=consultation)
    for position, treatment in enumerate(Treatment.objects.filter(active=True, referral=False)):
        PlannedProcedure.objects.create(
            plan=plan, treatment=treatment, sessions=2, interval_weeks=16,
            first_date=datetime.date(2027, 3, 1), position=position,
            notes=STAFF_ONLY[0], justification=STAFF_ONLY[1],
            patient_note="We will go gently.",
            reviewed_flags=[["keloid_tendency", "relative"], ["fitzpatrick", "relative"]])
    TreatmentPlan.objects.filter(pk=plan.pk).update(status="shared")
    plan.refresh_from_db()
    return plan


@pytest.mark.parametrize("language", ["en-gb", "zh-hans"])
def test_no_code_evidence_word_or_staff_text_reaches_the_patient(everything_planned,
                                                                   language):
    with translation.override(language):
        page = patient_plan_page(everything_planned, language)
        body = render_to_string("patients/_plan_body.html", page)
        pdf = render_to_string("patients/plan_pdf.html", {
            **page, "generated": datetime.datetime(2026, 12, 1, 9, 0)})

    assert len(page["procedures"]) + len(page["products"]) >= 20
    assert page["before"] and page["cautions"]
    assert forbidden_in(body) == []
    assert forbidden_in(pdf) == []
    assert "We will go gently." in body


def test_the_demo_plan_reads_cleanly_in_both_languages(db):
    call_command("load_demo", stdout=io.StringIO())
    for plan in TreatmentPlan.objects.all():
        for language in ("en-gb", "zh-hans"):
            with translation.override(language):
                body = render_to_string("patients/_plan_body.html",
                                        patient_plan_page(plan, language))
            assert forbidden_in(body) == [], (plan.pk, language)


class TestDatesAndPhones:
    @pytest.fixture
    def shared(self, client_as, clinician, clinic):
        clinic.phone = "+44 20 7946 0101"
        clinic.save()
        patient = PatientFactory(clinic=clinic, date_of_birth=datetime.date(1990, 3, 4))
        consultation = intake_submitted(client_as(clinician), patient)
        plan = plan_create(user=clinician, consultation=consultation)
        PlannedProcedure.objects.create(plan=plan, treatment=Treatment.objects.get(
            code="MICRONEEDLING"), sessions=1, first_date=datetime.date(2027, 1, 4))
        _link, token = plan_share(user=clinician, plan=plan, link_url=str)
        visitor = Client()
        visitor.post(f"/p/{token}/", {"date_of_birth": "1990-03-04"})
        return clinic, token, visitor

    @pytest.mark.parametrize("locale, language, written", [
        ("en-gb", "en", "4 Jan 2027"), ("en-us", "en", "Jan. 4, 2027"),
        ("en-gb", "zh-hans", "2027年1月4日")])
    def test_dates_follow_the_language_and_the_clinics_locale(self, shared, locale,
                                                               language, written):
        clinic, token, visitor = shared
        clinic.locale = locale
        clinic.save()

        page = visitor.get(f"/p/{token}/?lang={language}", follow=True).content.decode()

        assert written in page

    def test_the_clinics_phone_is_a_tap_to_call_link(self, shared):
        _clinic, token, visitor = shared

        page = visitor.get(f"/p/{token}/").content.decode()

        assert '<a href="tel:+442079460101">+44 20 7946 0101</a>' in page


def test_each_procedure_carries_its_consent_text_in_the_patients_language(
        everything_planned):
    with translation.override("zh-hans"):
        page = patient_plan_page(everything_planned, "zh-hans")
        pdf = render_to_string("patients/plan_pdf.html", {
            **page, "generated": datetime.datetime(2026, 12, 1, 9, 0)})

    botox = next(item for item in page["procedures"] if item["procedure"].treatment.code
                 == "BOTOX")
    headings = [heading for heading, _text in botox["consent"]]
    assert len(headings) == 6
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in text) for _h, text in botox["consent"])
    assert '<details class="consent-text" open>' in pdf
