"""The patient's plan page: their personal link, the date-of-birth check, the plan in plain
words and in their language, the PDF, accepting and asking."""

import datetime
import io
import re
import secrets

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from consultations.models import Consultation, PlanQuestion, PlanShareLink, TreatmentPlan
from consultations.patient_plan import merged_timeline
from consultations.plan_services import (
    plan_create,
    plan_procedure_add,
    plan_share,
    plan_share_link_revoke,
    token_hash,
)
from tests.audit_trail import chain_statements
from tests.consultations.intake_data import complete_intake
from tests.pages import as_read
from treatments.services import catalogue_record_save
from tests.factories import PatientFactory
from treatments.models import (
    AftercareStep,
    PreTreatmentRequirement,
    Requirement,
    TextTranslation,
    Treatment,
)

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1994, 6, 2)


def before_section(response):
    return response.content.decode().split('id="before"')[1].split("</section>")[0]


def link_url(token):
    return f"/p/{token}/"


def make_plan(client, clinician, patient, *procedures, **answers):
    response = client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                           complete_intake(**answers))
    assert response.status_code == 302
    consultation = Consultation.objects.filter(patient=patient).latest("id")
    plan = plan_create(user=clinician, consultation=consultation)
    for code, justification in procedures:
        plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=code),
                           sessions=3, interval_weeks=6, first_date=datetime.date(2027, 1, 4),
                           justification=justification)
    _link, token = plan_share(user=clinician, plan=plan, link_url=link_url)
    return plan, token


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Aiko Tanaka", date_of_birth=BIRTH,
                          email="aiko@example.com", preferred_language="en")


@pytest.fixture
def shared(client_as, clinician, patient):
    """A shared plan: microneedling with a justified isotretinoin caution, and silicone gel
    (fractional CO2 is ruled out: its maker asks for twelve months after isotretinoin)."""
    return make_plan(
        client_as(clinician), clinician, patient,
        ("MICRONEEDLING", "Last dose four months ago; consensus allows microneedling."),
        ("SILICONE_GEL", ""),
        dated_isotretinoin_last_dose="date", dated_isotretinoin_last_dose_date="2026-07-20",
        condition_herpes_simplex_history="yes",
    )


@pytest.fixture
def visitor():
    """The patient's own browser: not signed in."""
    return Client()


def confirm(visitor, token, born=BIRTH):
    return visitor.post(link_url(token), {"date_of_birth": born.isoformat()})


class TestTheLink:
    def test_holds_only_a_random_token_and_stores_only_its_hash(self, shared):
        plan, token = shared
        link = PlanShareLink.objects.get(plan=plan)

        assert len(token) >= 43  # 32 random bytes, URL-safe base64
        assert link.token_hash == token_hash(token) != token
        assert not PlanShareLink.objects.filter(token_hash=token).exists()
        assert "Aiko" not in link_url(token) and "1994" not in link_url(token)

    def test_expires_after_the_configured_days(self, shared, settings):
        plan, _token = shared
        link = PlanShareLink.objects.get(plan=plan)

        lifetime = link.expires_at - link.created_at
        assert settings.PLAN_LINK_DAYS == 14
        assert abs(lifetime - datetime.timedelta(days=14)) < datetime.timedelta(minutes=1)

    def test_sharing_again_replaces_the_earlier_link(self, shared, clinician, visitor):
        plan, first = shared

        _link, second = plan_share(user=clinician, plan=plan, link_url=link_url)

        assert visitor.get(link_url(first)).status_code == 410
        assert visitor.get(link_url(second)).status_code == 200

    def test_a_thousand_random_tokens_find_nothing(self, shared, visitor):
        for _ in range(1000):
            response = visitor.get(link_url(secrets.token_urlsafe(32)))
            assert response.status_code == 404
        assert b"Aiko" not in response.content


class TestDateOfBirthCheck:
    def test_nothing_is_shown_before_the_date_of_birth(self, shared, visitor):
        _plan, token = shared

        page = visitor.get(link_url(token)).content.decode()

        assert "date of birth" in page
        assert "Aiko" not in page and "Microneedling" not in page

    def test_the_right_date_opens_the_plan(self, shared, visitor):
        _plan, token = shared

        response = confirm(visitor, token)

        assert response.status_code == 302
        page = visitor.get(link_url(token)).content.decode()
        assert "Your treatment plan, Aiko" in page
        assert "Microneedling" in page

    def test_a_wrong_date_says_so_and_counts(self, shared, visitor, settings):
        settings.PLAN_LINK_RETRY_SECONDS = 0
        plan, token = shared

        response = confirm(visitor, token, datetime.date(1990, 1, 1))

        assert "does not match our records. 4 tries left" in response.content.decode()
        assert PlanShareLink.objects.get(plan=plan).failed_attempts == 1
        assert "Aiko" not in response.content.decode()

    def test_wrong_answers_must_wait_before_another_try(self, shared, visitor, settings):
        settings.PLAN_LINK_RETRY_SECONDS = 30
        plan, token = shared
        confirm(visitor, token, datetime.date(1990, 1, 1))

        response = confirm(visitor, token)  # even the right date must wait

        assert "Please wait" in response.content.decode()
        assert PlanShareLink.objects.get(plan=plan).failed_attempts == 1
        assert "Your treatment plan, Aiko" not in response.content.decode()

    def test_the_link_locks_after_five_wrong_answers(self, shared, visitor, settings):
        settings.PLAN_LINK_RETRY_SECONDS = 0
        plan, token = shared
        for _ in range(4):
            assert confirm(visitor, token, datetime.date(1990, 1, 1)).status_code == 200

        fifth = confirm(visitor, token, datetime.date(1990, 1, 1))

        assert fifth.status_code == 410
        assert "locked" in fifth.content.decode()
        assert confirm(visitor, token).status_code == 410
        assert PlanShareLink.objects.get(plan=plan).locked_at is not None

    def test_an_expired_link_is_refused(self, shared, visitor):
        plan, token = shared
        PlanShareLink.objects.filter(plan=plan).update(
            expires_at=timezone.now() - datetime.timedelta(minutes=1))

        response = visitor.get(link_url(token))

        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert confirm(visitor, token).status_code == 410

    def test_a_revoked_link_is_refused_even_to_a_confirmed_visitor(self, shared, visitor,
                                                                   clinician):
        plan, token = shared
        confirm(visitor, token)

        plan_share_link_revoke(user=clinician, link=PlanShareLink.objects.get(plan=plan))

        response = visitor.get(link_url(token))
        assert response.status_code == 410
        assert "Aiko" not in response.content.decode()

    def test_a_withdrawn_plan_is_no_longer_shown(self, shared, visitor):
        plan, token = shared
        confirm(visitor, token)
        TreatmentPlan.objects.filter(pk=plan.pk).update(status="withdrawn")

        assert visitor.get(link_url(token)).status_code == 410

    def test_a_link_never_shows_another_patients_plan(self, shared, visitor, client_as,
                                                      clinician, clinic):
        _plan, token = shared
        other = PatientFactory(clinic=clinic, full_name="Bob Brown",
                               date_of_birth=datetime.date(1980, 2, 2))
        _other_plan, other_token = make_plan(client_as(clinician), clinician, other,
                                             ("SILICONE_GEL", ""))

        # Bob's date of birth does not open Aiko's link...
        assert "does not match" in confirm(visitor, token, other.date_of_birth
                                           ).content.decode()
        # ...and having opened Bob's link does not open Aiko's.
        confirm(visitor, other_token, other.date_of_birth)
        assert "Bob" in visitor.get(link_url(other_token)).content.decode()
        page = visitor.get(link_url(token)).content.decode()
        assert "Bob" not in page and "Aiko" not in page

    def test_patient_pages_are_not_cached_and_send_no_referrer(self, shared, visitor):
        _plan, token = shared
        for response in (visitor.get(link_url(token)), confirm(visitor, token),
                         visitor.get(link_url(token))):
            assert "no-store" in response["Cache-Control"]
            assert response["Referrer-Policy"] == "no-referrer"


class TestThePage:
    @pytest.fixture
    def page(self, shared, visitor):
        _plan, token = shared
        confirm(visitor, token)
        return visitor.get(link_url(token))

    def test_says_what_why_when_and_how_long(self, page):
        text = page.content.decode()

        assert "Harbourside Skin Clinic" in text
        assert "Why we chose it for you" in text
        assert "3 sessions, about 6 weeks apart" in text
        assert "4 Jan 2027" in text or "Jan. 4, 2027" in text
        assert "Time to recover" in text and "about 1 to 3 days" in text

    def test_says_what_to_do_before(self, page):
        before = page.content.decode().split('id="before"')[1].split("</section>")[0]

        assert "Tablets to prevent cold sores" in before  # the patient has cold sores
        assert "healed" in before

    def test_heads_each_step_with_the_patients_label_not_the_clinicians(self, page):
        before = before_section(page)
        antiviral = Requirement.objects.get(code="antiviral_prophylaxis")
        healed = Requirement.objects.get(code="wound_fully_healed")

        assert {entry["label"] for entry in page.context["before"]} == {
            antiviral.patient_label, healed.patient_label}
        assert f'<h3 class="h6">{antiviral.patient_label}' in before
        assert f'<h3 class="h6">{healed.patient_label}' in before
        assert antiviral.label not in before  # "Antiviral prophylaxis"
        assert healed.label not in before  # "Wound fully healed"

    def test_a_step_without_a_patient_label_is_headed_by_its_label(
            self, client_as, clinician, clinic, visitor):
        Requirement.objects.filter(code="wound_fully_healed").update(patient_label="")
        patient = PatientFactory(clinic=clinic, full_name="Mira Sato", date_of_birth=BIRTH)
        _plan, token = make_plan(client_as(clinician), clinician, patient, ("SILICONE_GEL", ""))
        confirm(visitor, token)

        response = visitor.get(link_url(token))

        (entry,) = response.context["before"]
        assert entry["label"] == "Wound fully healed"

    def test_gives_each_step_the_patients_timing_not_the_clinicians(self, page):
        before = before_section(page)
        healed = PreTreatmentRequirement.objects.get(treatment__code="SILICONE_GEL",
                                                     requirement__code="wound_fully_healed")
        antiviral = PreTreatmentRequirement.objects.get(treatment__code="MICRONEEDLING",
                                                        requirement__code="antiviral_prophylaxis")
        timings = {timing for entry in page.context["before"] for _name, timing in entry["items"]}

        assert healed.patient_timing in before
        assert healed.timing not in before
        assert antiviral.patient_timing in timings
        assert antiviral.timing not in timings  # "At the physician's discretion."

    def test_a_step_without_a_patient_timing_shows_only_the_treatment(
            self, client_as, clinician, clinic, visitor):
        PreTreatmentRequirement.objects.filter(treatment__code="SILICONE_GEL").update(
            patient_timing="")
        patient = PatientFactory(clinic=clinic, full_name="Mira Sato", date_of_birth=BIRTH)
        _plan, token = make_plan(client_as(clinician), clinician, patient, ("SILICONE_GEL", ""))
        confirm(visitor, token)

        response = visitor.get(link_url(token))

        gel = Treatment.objects.get(code="SILICONE_GEL")
        (entry,) = response.context["before"]
        assert entry["items"] == [(gel.name, "")]
        assert f"<li>{gel.name}</li>" in before_section(response)

    def test_explains_the_accepted_caution_plainly_and_keeps_the_justification_in(
            self, page):
        cautions = page.content.decode().split('id="cautions"')[1].split("</section>")[0]

        assert "isotretinoin" in cautions.lower()  # the catalogue's question for patients
        assert "consensus allows microneedling" not in page.content.decode()

    def test_gives_one_merged_aftercare_timeline(self, page):
        timeline = page.context["timeline"]
        labels = [row.when for row in timeline]
        treatments = {name for row in timeline for name, _text in row.items}

        assert any("Microneedling" in name for name in treatments)
        assert any("ilicone" in name for name in treatments)
        assert labels[0] == "Every day while you use it"
        assert len(labels) == len(set(labels))
        assert "When to call us" in page.content.decode()

    def test_follows_an_intake_edit_at_once(self, shared, visitor, client_as, clinician):
        plan, token = shared
        confirm(visitor, token)
        retinoid = Requirement.objects.get(code="pause_topical_retinoid").patient_label
        assert retinoid not in before_section(visitor.get(link_url(token)))
        consultation = plan.consultation

        client_as(clinician).post(
            reverse("consultations:consultation-edit", args=[consultation.pk]),
            complete_intake(version=str(consultation.version),
                            dated_isotretinoin_last_dose="date",
                            dated_isotretinoin_last_dose_date="2026-07-20",
                            condition_herpes_simplex_history="yes",
                            condition_topical_retinoid_use="yes"))

        assert retinoid in before_section(visitor.get(link_url(token)))

    def test_follows_a_catalogue_edit_at_once(self, shared, visitor, catalogue_admin):
        _plan, token = shared
        confirm(visitor, token)
        visitor.get(link_url(token))
        gel = Treatment.objects.get(code="SILICONE_GEL")
        gel.patient_description = "A clear gel you smooth over the scar twice a day."

        catalogue_record_save(actor=catalogue_admin, instance=gel, changes={}, created=False)

        assert gel.patient_description in visitor.get(link_url(token)).content.decode()

    def test_follows_a_new_clinic_phone_number(self, shared, visitor, clinic):
        _plan, token = shared
        confirm(visitor, token)
        visitor.get(link_url(token))

        clinic.phone = "+44 20 7946 0999"
        clinic.save()

        page = visitor.get(link_url(token)).content.decode()
        assert 'Call the clinic on <a href="tel:+442079460999">+44 20 7946 0999</a>' in page

    def test_is_built_in_a_constant_number_of_queries(self, shared, visitor, clinician):
        plan, token = shared
        confirm(visitor, token)

        def build():
            cache.clear()  # nothing kept: the page is worked out afresh
            with CaptureQueriesContext(connection) as captured:
                response = visitor.get(link_url(token))
            return len(captured), response

        two, _response = build()
        plan.status = "draft"
        plan.save()
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="REPAIR_MASK"))
        plan.status = "shared"
        plan.save()
        three, response = build()

        assert len(response.context["products"]) == 2
        assert three == two

    def test_seen_again_reads_the_answers_only_to_check_nothing_is_on_hold(
            self, shared, visitor, django_assert_num_queries):
        _plan, token = shared
        confirm(visitor, token)
        first = visitor.get(link_url(token))

        # session, link with plan and patient, audit entry, catalogue token, the patient's
        # questions, consent texts' versions and signed consents; the check that no planned
        # procedure is on hold: procedures, consultation with its three kinds of answers,
        # catalogue version; and the audit entry's link in the chain
        with django_assert_num_queries(13 + chain_statements()):
            again = visitor.get(link_url(token))

        assert as_read(again) == as_read(first)


def test_the_merged_timeline_orders_rows_and_joins_equal_days():
    def step(period, start, end, text):
        return AftercareStep(period=period, start_day=start, end_day=end, patient_text=text)

    rows = merged_timeline([
        ("Laser", [step("days", 0, 7, "Moisturise."), step("ongoing", 0, None, "Sunscreen."),
                   step("days", 28, 28, "Check-up.")]),
        ("Gel", [step("daily", None, None, "Apply twice."), step("days", 0, 7, "Keep dry.")]),
    ], lambda record, field: getattr(record, field))

    assert [row.when for row in rows] == ["Every day while you use it", "Days 0 to 7",
                                          "From the day of treatment onwards", "Day 28"]
    assert rows[1].items == [("Laser", "Moisturise."), ("Gel", "Keep dry.")]


class TestLanguages:
    def test_the_patients_language_is_used_first(self, client_as, clinician, clinic, visitor):
        patient = PatientFactory(clinic=clinic, full_name="Wei Zhang", date_of_birth=BIRTH,
                                 preferred_language="zh-hans")
        _plan, token = make_plan(client_as(clinician), clinician, patient, ("SILICONE_GEL", ""))
        confirm(visitor, token)

        page = visitor.get(link_url(token)).content.decode()

        gel = Treatment.objects.get(code="SILICONE_GEL")
        chinese_name = TextTranslation.objects.get(object_id=gel.pk, field="name",
                                                   content_type__model="treatment").text
        assert chinese_name in page
        assert "您的治疗方案" in page  # the interface, translated
        assert 'lang="zh-Hans"' in page

    def test_a_step_timing_is_read_in_the_patients_language(
            self, client_as, clinician, clinic, visitor):
        patient = PatientFactory(clinic=clinic, full_name="Wei Zhang", date_of_birth=BIRTH,
                                 preferred_language="zh-hans")
        _plan, token = make_plan(client_as(clinician), clinician, patient, ("SILICONE_GEL", ""))
        confirm(visitor, token)

        before = before_section(visitor.get(link_url(token)))

        healed = PreTreatmentRequirement.objects.get(treatment__code="SILICONE_GEL")
        texts = dict(TextTranslation.objects.filter(
            object_id=healed.pk, content_type__model="pretreatmentrequirement",
            language="zh-hans").values_list("field", "text"))
        assert texts["patient_timing"] in before
        assert texts["timing"] not in before
        assert healed.patient_timing not in before

    def test_a_step_is_headed_by_the_patients_label_in_their_language(
            self, client_as, clinician, clinic, visitor):
        patient = PatientFactory(clinic=clinic, full_name="Wei Zhang", date_of_birth=BIRTH,
                                 preferred_language="zh-hans")
        _plan, token = make_plan(client_as(clinician), clinician, patient, ("SILICONE_GEL", ""))
        confirm(visitor, token)

        before = before_section(visitor.get(link_url(token)))

        healed = Requirement.objects.get(code="wound_fully_healed")
        texts = dict(TextTranslation.objects.filter(
            object_id=healed.pk, content_type__model="requirement",
            language="zh-hans").values_list("field", "text"))
        assert f'<h3 class="h6">{texts["patient_label"]}' in before
        # "伤口完全愈合" may be read in the timing ("请等伤口完全愈合……"), not as the heading.
        assert f'<h3 class="h6">{texts["label"]}' not in before
        assert healed.patient_label not in before

    def test_the_switcher_changes_language_both_ways(self, shared, visitor):
        _plan, token = shared
        confirm(visitor, token)

        chinese = visitor.get(link_url(token) + "?lang=zh-hans", follow=True).content.decode()
        english = visitor.get(link_url(token) + "?lang=en", follow=True).content.decode()

        assert "您的治疗方案" in chinese and "Your treatment plan" not in chinese
        assert "Your treatment plan, Aiko" in english

    def test_missing_translations_fall_back_to_english(self, shared, visitor):
        _plan, token = shared
        gel = Treatment.objects.get(code="SILICONE_GEL")
        TextTranslation.objects.filter(object_id=gel.pk, content_type__model="treatment",
                                       field="name").delete()
        confirm(visitor, token)

        chinese = visitor.get(link_url(token) + "?lang=zh-hans", follow=True).content.decode()

        assert gel.name in chinese


def pdf_text(response):
    reader = PdfReader(io.BytesIO(response.content))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


class TestPdf:
    def test_is_produced_with_the_patients_name_and_procedures(self, shared, visitor):
        _plan, token = shared
        confirm(visitor, token)

        response = visitor.get(link_url(token) + "pdf/")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        text = pdf_text(response)
        assert "AikoTanaka" in text
        assert "Microneedling" in text
        assert "ilicone" in text

    def test_is_produced_in_chinese(self, shared, visitor):
        _plan, token = shared
        confirm(visitor, token)
        visitor.get(link_url(token) + "?lang=zh-hans")

        response = visitor.get(link_url(token) + "pdf/")

        assert response.status_code == 200
        assert "AikoTanaka" in pdf_text(response)

    def test_needs_the_date_of_birth_first(self, shared, visitor):
        _plan, token = shared

        response = visitor.get(link_url(token) + "pdf/")

        assert response.status_code == 302
        assert response["Content-Type"] != "application/pdf"


class TestAcceptingAndAsking:
    def test_the_patient_accepts_the_plan(self, shared, visitor):
        plan, token = shared
        confirm(visitor, token)

        response = visitor.post(link_url(token) + "accept/", follow=True)

        plan.refresh_from_db()
        assert plan.status == "accepted" and plan.accepted_at and plan.accepted_by is None
        assert "You accepted this plan" in response.content.decode()

    def test_the_patient_asks_a_question_and_the_clinician_sees_it(
            self, shared, visitor, client_as, clinician, django_capture_on_commit_callbacks):
        plan, token = shared
        confirm(visitor, token)
        mail.outbox.clear()

        with django_capture_on_commit_callbacks(execute=True):
            visitor.post(link_url(token) + "question/", {"message": "Can I exercise after?"})

        assert PlanQuestion.objects.get(plan=plan).message == "Can I exercise after?"
        assert len(mail.outbox) == 1
        assert "Can I exercise" not in mail.outbox[0].body  # no health data by email
        page = client_as(clinician).get(reverse("consultations:plan-detail", args=[plan.pk]))
        assert "Can I exercise after?" in page.content.decode()

    def test_an_empty_question_is_refused_beside_the_field(self, shared, visitor):
        plan, token = shared
        confirm(visitor, token)

        response = visitor.post(link_url(token) + "question/", {"message": "  "})

        assert "This field is required" in response.content.decode()
        assert not PlanQuestion.objects.exists()

    def test_nothing_is_accepted_without_the_date_of_birth(self, shared, visitor):
        plan, token = shared

        visitor.post(link_url(token) + "accept/")

        plan.refresh_from_db()
        assert plan.status == "shared"

    def test_patient_forms_need_their_csrf_token(self, shared):
        _plan, token = shared
        strict = Client(enforce_csrf_checks=True)
        page = strict.get(link_url(token))
        csrf = page.cookies["csrftoken"].value

        refused = strict.post(link_url(token), {"date_of_birth": BIRTH.isoformat()},
                              HTTP_ORIGIN="null")
        allowed = strict.post(link_url(token), {"date_of_birth": BIRTH.isoformat(),
                                                "csrfmiddlewaretoken": csrf},
                              HTTP_ORIGIN="null")

        assert refused.status_code == 403
        assert allowed.status_code == 302

    def test_a_null_origin_is_refused_on_staff_pages(self, clinician):
        strict = Client(enforce_csrf_checks=True)
        strict.force_login(clinician)
        csrf = strict.get(reverse("consultations:patient-create")).cookies["csrftoken"].value

        response = strict.post(reverse("consultations:patient-create"),
                               {"csrfmiddlewaretoken": csrf, "full_name": "X"},
                               HTTP_ORIGIN="null")

        assert response.status_code == 403


class TestSharingFromTheClinic:
    def test_sharing_shows_the_link_once_and_emails_it(self, client_as, clinician, patient,
                                                        django_capture_on_commit_callbacks):
        client = client_as(clinician)
        client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                    complete_intake())
        plan = plan_create(user=clinician,
                           consultation=Consultation.objects.get(patient=patient))
        plan_procedure_add(user=clinician, plan=plan,
                           treatment=Treatment.objects.get(code="SILICONE_GEL"))
        mail.outbox.clear()

        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("consultations:plan-share", args=[plan.pk]), {"email": "on"})

        plan.refresh_from_db()
        assert plan.status == "shared"
        first = client.get(reverse("consultations:plan-detail", args=[plan.pk]))
        shown = re.search(r"http://testserver/p/[A-Za-z0-9_\-]+/", first.content.decode())
        assert shown
        assert shown.group(0) in mail.outbox[0].body
        assert mail.outbox[0].to == ["aiko@example.com"]
        assert "Aiko" not in mail.outbox[0].body
        second = client.get(reverse("consultations:plan-detail", args=[plan.pk]))
        assert shown.group(0) not in second.content.decode()

    def test_the_clinician_revokes_a_link(self, client_as, clinician, shared, visitor):
        plan, token = shared
        link = PlanShareLink.objects.get(plan=plan)

        client_as(clinician).post(reverse("consultations:plan-link-revoke",
                                          args=[plan.pk, link.pk]))

        assert visitor.get(link_url(token)).status_code == 410
