"""Bad input is answered with a clear message, never a server error, and nothing is lost:
what was typed comes back, and nothing is half-saved.

PostgreSQL refuses a NUL character in text, so these tests matter most there; on SQLite
they still check the answer each case gets."""

import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import models
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEvent, EnrolmentCode, OutgoingEmail
from clinic.roles import CLINICIAN
from clinic.typed_text import NUL_REFUSED
from consultations.forms import PlannedProcedureForm
from consultations.models import (
    ConsultationRevision,
    PlannedProcedure,
    PlanQuestion,
    PlanStatusChange,
    SignedConsent,
    TreatmentPlan,
)
from consultations.plan_services import (
    PlanReviewError,
    plan_create,
    plan_procedure_add,
    plan_procedure_reschedule,
    plan_review,
    plan_share,
    plan_status_change,
)
from tests.consultations.intake_data import complete_intake, intake_submitted
from tests.factories import PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

NUL = "\x00"
NEEDLING = "MICRONEEDLING"  # no caution for the standard intake; keloids make it one


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Lena Fischer",
                          date_of_birth=datetime.date(1990, 3, 4))


@pytest.fixture
def consultation(client_as, clinician, patient):
    return intake_submitted(client_as(clinician), patient)


@pytest.fixture
def plan(clinician, consultation):
    plan = plan_create(user=clinician, consultation=consultation)
    plan_procedure_add(user=clinician, plan=plan, treatment=Treatment.objects.get(code=NEEDLING),
                       first_date=datetime.date(2027, 2, 1))
    return plan


def cautioned(client, consultation):
    """The intake edited so that the planned microneedling now has a caution (keloids)."""
    consultation.refresh_from_db()
    response = client.post(reverse("consultations:consultation-edit", args=[consultation.pk]),
                           complete_intake(version=str(consultation.version),
                                           condition_keloid_tendency="yes"))
    assert response.status_code == 302


class TestANulInTheAddress:
    """No page's address holds a NUL: a plain 400 page says so, before any lookup."""

    @pytest.mark.parametrize("url", [
        "/catalogue/%00/",
        "/catalogue/CO2%00FRAC/",
        "/catalogue/?text=%00",
        "/catalogue/?concern=acne%00",
        "/patients/?page=%00",
        "/patients/?q=%00",
        "/?next=%00",
        "/sign-in/?next=/patients/%00",
        "/p/abc%00def/",
    ])
    def test_gets_a_plain_400_page(self, client_as, clinician, url):
        response = client_as(clinician).get(url)

        assert response.status_code == 400
        assert "That address cannot be read" in response.content.decode()

    def test_in_a_query_name_too(self, client_as, clinician):
        assert client_as(clinician).get("/catalogue/?te%00xt=1").status_code == 400

    def test_in_the_admins_search_and_filters(self, client_as, catalogue_admin):
        client = client_as(catalogue_admin)
        changelist = reverse("admin:treatments_treatment_changelist")

        assert client.get(changelist, {"q": f"laser{NUL}"}).status_code == 400
        assert client.get(changelist, {"code__exact": NUL}).status_code == 400

    def test_in_a_form_posted_to_an_address_with_one(self, client_as, clinician, plan):
        url = reverse("consultations:plan-procedure-add", args=[plan.pk])

        response = client_as(clinician).post(f"{url}?treatment=SILICONE%00GEL", {"sessions": 1})

        assert response.status_code == 400
        assert plan.procedures.count() == 1


class TestANulInTypedText:
    """Text boxes read outside a form field refuse a NUL beside the box, keeping the text."""

    def test_a_status_change_reason_is_refused_beside_the_box(self, client_as, clinician, plan):
        plan_share(user=clinician, plan=plan, link_url=str)
        plan_status_change(user=clinician, plan=plan, to="accepted")
        typed = f"Patient moved{NUL} away"

        response = client_as(clinician).post(
            reverse("consultations:plan-status", args=[plan.pk]),
            {"to": "withdrawn", "reason": typed})

        assert response.status_code == 200
        assert response.context["move_error"] == {"to": "withdrawn", "reason": typed,
                                                  "message": str(NUL_REFUSED)}
        plan.refresh_from_db()
        assert plan.status == TreatmentPlan.Status.ACCEPTED
        assert not PlanStatusChange.objects.filter(plan=plan, to_status="withdrawn").exists()

    def test_an_answer_to_a_patients_question_is_kept_as_a_draft(self, client_as, clinician,
                                                                  plan):
        question = PlanQuestion.objects.create(plan=plan, message="How long is the redness?")
        client = client_as(clinician)
        typed = f"Two{NUL} days"

        client.post(reverse("consultations:plan-question-answer", args=[plan.pk, question.pk]),
                    {"answer": typed})

        question.refresh_from_db()
        assert question.answered_at is None and question.answer == ""
        page = client.get(reverse("consultations:plan-detail", args=[plan.pk]))
        assert page.context["answer_draft"] == {"question": question.pk, "text": typed,
                                                "error": str(NUL_REFUSED)}

    def test_a_review_justification_is_refused_for_its_procedure(self, client_as, clinician,
                                                                  consultation, plan):
        client = client_as(clinician)
        cautioned(client, consultation)
        procedure = plan.procedures.get()
        typed = f"Test spot{NUL} healed flat."

        response = client.post(reverse("consultations:plan-review", args=[plan.pk]),
                               {f"justification_{procedure.pk}": typed})

        assert response.status_code == 200
        row = response.context["rows"][0]
        assert row["error"] == str(NUL_REFUSED) and row["text"] == typed
        procedure.refresh_from_db()
        assert procedure.justification == ""

    @pytest.mark.parametrize("field", ["notes", "patient_note"])
    def test_a_procedures_notes_are_refused_beside_the_field(self, client_as, clinician, plan,
                                                             field):
        procedure = plan.procedures.get()
        typed = f"Cheeks{NUL} only"

        response = client_as(clinician).post(
            reverse("consultations:plan-procedure-edit", args=[plan.pk, procedure.pk]),
            {"sessions": 1, "first_date": "2027-02-01", field: typed})

        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors[field] and form[field].value() == typed
        procedure.refresh_from_db()
        assert getattr(procedure, field) == ""


class TestALongStaffName:
    def test_is_kept_on_the_intake_revision_shortened_with_an_ellipsis(self, client_as, clinic,
                                                                       patient):
        clinician = UserFactory(clinic=clinic, role=CLINICIAN, first_name="A" * 150,
                                last_name="B" * 150)

        response = client_as(clinician).post(
            reverse("consultations:consultation-create", args=[patient.pk]), complete_intake())

        assert response.status_code == 302
        kept = ConsultationRevision.objects.get().saved_by_name
        limit = ConsultationRevision._meta.get_field("saved_by_name").max_length
        assert len(kept) == limit
        assert kept == "A" * 150 + " " + "B" * (limit - 152) + "…"

    def test_a_name_that_fits_is_kept_whole(self, client_as, clinician, patient):
        client_as(clinician).post(reverse("consultations:consultation-create",
                                          args=[patient.pk]), complete_intake())

        assert ConsultationRevision.objects.get().saved_by_name == "Mei Lin"


def text_fields(model):
    # A password hash may not be filtered on at all (the admin refuses it outright).
    return [field.name for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField))
            and field.name != "password"]


CHANGELISTS = sorted((f"{model._meta.app_label}_{model._meta.model_name}", model)
                     for model in admin.site._registry if text_fields(model))


class TestAnInvalidLookupInTheAdmin:
    """A lookup the database refuses gets the admin's own 'invalid lookup' answer (?e=1)."""

    def test_every_changelist_has_a_text_field_to_try(self):
        assert len(CHANGELISTS) == len(admin.site._registry)

    @pytest.fixture
    def a_row_in_every_list(self, clinic, superuser, plan):
        """The database reads a pattern only against a row: every list gets one."""
        AuditEvent.objects.create(actor_label="system", action="view", object_type="patient")
        TOTPDevice.objects.create(user=superuser, name="Phone", confirmed=True)
        StaticDevice.objects.create(user=superuser, name="Backup codes", confirmed=True)
        EnrolmentCode.objects.create(user=superuser, code_hash="0" * 64,
                                     expires_at=timezone.now())
        OutgoingEmail.objects.create(kind=OutgoingEmail.Kind.ANSWER_NOTICE, clinic=clinic,
                                     recipient="someone@example.com", language="en",
                                     subject="Subject", message_id="<probe@example.com>",
                                     next_attempt_at=timezone.now())
        AccessAttempt.objects.create(username="someone", ip_address="127.0.0.1",
                                     user_agent="test", failures_since_start=1)
        AccessFailureLog.objects.create(username="someone", ip_address="127.0.0.1",
                                        user_agent="test")
        procedure = plan.procedures.get()
        SignedConsent.objects.create(
            plan=plan, procedure=procedure, treatment=procedure.treatment, consent_version=1,
            procedure_fingerprint="0" * 64, catalogue_version=1, language="en",
            text="Consent text", text_sha256="0" * 64, typed_name="Lena Fischer",
            signed_at=timezone.now())

    def test_an_invalid_regular_expression_on_every_changelist(self, client_as, superuser,
                                                                a_row_in_every_list):
        client = client_as(superuser)
        answers = {}
        for name, model in CHANGELISTS:
            assert model._default_manager.exists(), name
            url = reverse(f"admin:{name}_changelist")
            response = client.get(url, {f"{text_fields(model)[0]}__regex": "("})
            answers[name] = (response.status_code, response.get("Location"))

        assert answers == {name: (302, reverse(f"admin:{name}_changelist") + "?e=1")
                           for name, _model in CHANGELISTS}

    @pytest.mark.parametrize("lookup, pattern", [("name__regex", "[a-"),
                                                 ("name__iregex", "*x"),
                                                 ("aliases__regex", "(?<")])
    def test_each_kind_of_invalid_pattern(self, client_as, catalogue_admin, lookup, pattern):
        url = reverse("admin:treatments_treatment_changelist")

        response = client_as(catalogue_admin).get(url, {lookup: pattern})

        assert (response.status_code, response.get("Location")) == (302, f"{url}?e=1")

    def test_the_list_still_answers_afterwards(self, client_as, catalogue_admin):
        client = client_as(catalogue_admin)
        url = reverse("admin:treatments_treatment_changelist")

        client.get(url, {"name__iregex": "("})

        assert client.get(f"{url}?e=1").status_code == 200
        assert client.get(url, {"code__regex": "^CO2_FRAC$"}).context["cl"].result_count == 1


@pytest.mark.parametrize("page", ["config", "qrcode"])
def test_an_unknown_authenticators_admin_pages_are_not_found(client_as, superuser, page):
    TOTPDevice.objects.create(user=superuser, name="Phone", confirmed=True)

    response = client_as(superuser).get(f"/admin/otp_totp/totpdevice/999999/{page}/")

    assert response.status_code == 404


class TestJustifications:
    def test_adding_and_reviewing_share_one_limit(self, client_as, clinician, consultation,
                                                  plan):
        limit = PlannedProcedure.JUSTIFICATION_MAX_LENGTH
        assert PlannedProcedureForm(consultation=consultation).fields[
            "justification"].max_length == limit
        cautioned(client_as(clinician), consultation)
        procedure = plan.procedures.get()

        with pytest.raises(PlanReviewError) as refused:
            plan_review(user=clinician, plan=plan, justifications={procedure.pk: "x" * (limit + 1)})

        assert "within 4000 characters" in refused.value.errors[procedure.pk]
        procedure.refresh_from_db()
        assert procedure.justification == ""
        plan_review(user=clinician, plan=plan, justifications={procedure.pk: "x" * limit})
        procedure.refresh_from_db()
        assert procedure.justification == "x" * limit

    def test_the_review_page_keeps_an_over_long_one_beside_its_box(self, client_as, clinician,
                                                                   consultation, plan):
        client = client_as(clinician)
        cautioned(client, consultation)
        procedure = plan.procedures.get()
        typed = "y" * (PlannedProcedure.JUSTIFICATION_MAX_LENGTH + 1)

        response = client.post(reverse("consultations:plan-review", args=[plan.pk]),
                               {f"justification_{procedure.pk}": typed})

        row = response.context["rows"][0]
        assert response.status_code == 200 and row["text"] == typed and row["error"]
        assert f'maxlength="{PlannedProcedure.JUSTIFICATION_MAX_LENGTH}"' in \
            response.content.decode()

    def test_a_review_keeps_none_for_a_procedure_without_a_caution(self, clinician, plan):
        procedure = plan.procedures.get()

        plan_review(user=clinician, plan=plan, justifications={procedure.pk: "Just because."})

        procedure.refresh_from_db()
        assert (procedure.justification, procedure.justified_by) == ("", None)

    def test_the_review_page_offers_no_box_without_a_caution(self, client_as, clinician, plan):
        procedure = plan.procedures.get()

        page = client_as(clinician).get(reverse("consultations:plan-review", args=[plan.pk]))

        assert f'name="justification_{procedure.pk}"' not in page.content.decode()

    def test_editing_keeps_none_for_a_procedure_without_a_caution(self, clinician, plan):
        procedure = plan.procedures.get()

        plan_procedure_reschedule(user=clinician, plan=plan, procedure=procedure, sessions=1,
                                  first_date=datetime.date(2027, 3, 1),
                                  justification="Just because.")

        procedure.refresh_from_db()
        assert (procedure.justification, procedure.justified_by) == ("", None)
        assert procedure.first_date == datetime.date(2027, 3, 1)

    def test_adding_keeps_none_for_a_procedure_without_a_caution(self, client_as, clinician,
                                                                plan):
        response = client_as(clinician).post(
            reverse("consultations:plan-procedure-add", args=[plan.pk]) + "?treatment=MICRODERM",
            {"sessions": 1, "justification": "Just because."})

        assert response.status_code == 302
        added = plan.procedures.get(treatment__code="MICRODERM")
        assert (added.justification, added.justified_by) == ("", None)


class TestPatientSearch:
    """A search for a patient is sent by POST: no name or date of birth in any address."""

    LIST_URL = reverse("consultations:patient-list")

    @pytest.fixture
    def patients(self, clinic):
        PatientFactory(clinic=clinic, full_name="Amelia Stone",
                       date_of_birth=datetime.date(1990, 1, 1))
        PatientFactory.create_batch(30, clinic=clinic, full_name="Bob Brown")

    def test_the_search_form_posts_with_a_csrf_token(self, client_as, clinician):
        page = client_as(clinician).get(self.LIST_URL).content.decode()

        form = page[page.index('role="search"') - 100:]
        assert '<form method="post"' in form[:200]
        assert 'name="csrfmiddlewaretoken"' in form[:form.index("</form>")]

    def test_a_search_is_answered_on_the_same_address(self, client_as, clinician, patients):
        response = client_as(clinician).post(self.LIST_URL, {"q": "1990-01-01"})

        assert response.status_code == 200
        assert [p.full_name for p in response.context["patients"]] == ["Amelia Stone"]
        assert response.context["search_form"]["q"].value() == "1990-01-01"

    def test_a_search_without_the_csrf_token_is_refused(self, clinician, patients):
        client = Client(enforce_csrf_checks=True)
        client.force_login(clinician)

        assert client.post(self.LIST_URL, {"q": "Amelia"}).status_code == 403

    def test_a_query_in_the_address_is_ignored(self, client_as, clinician, patients):
        response = client_as(clinician).get(self.LIST_URL, {"q": "Amelia"})

        assert response.context["query"] == ""
        assert response.context["paginator"].count == 31

    def test_a_searchs_pages_are_posted_and_no_address_holds_the_query(self, client_as,
                                                                       clinician, patients):
        client = client_as(clinician)

        first = client.post(self.LIST_URL, {"q": "Bob"})
        second = client.post(self.LIST_URL, {"q": "Bob", "page": "2"})

        assert len(first.context["patients"]) == 25
        assert len(second.context["patients"]) == 5
        for page in (first, second):
            html = page.content.decode()
            assert "q=" not in html
            assert 'method="post" action="/patients/"' in html
            assert not any("Bob" in part.split('"', 1)[0]
                           for part in html.split('href="')[1:] + html.split('action="')[1:])


def test_an_empty_field_to_refer_to_in_an_admin_address_is_a_bad_request(client_as, superuser):
    url = reverse("admin:auth_group_change", args=[Group.objects.first().pk])

    response = client_as(superuser).get(url, {"_to_field": ""})

    assert response.status_code == 400
