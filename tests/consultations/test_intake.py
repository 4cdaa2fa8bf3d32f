"""The consultation intake: drafts, submission, validation, edit history, the refusal of a
conflicting edit, conflict-policy notices, and a catalogue-driven form."""

import datetime

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consultations.models import Consultation, ConsultationRevision
from tests.consultations.intake_data import as_draft, complete_intake
from tests.factories import ConsultationFactory, PatientFactory, UserFactory
from treatments.models import Condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Lena Park",
                          date_of_birth=datetime.date(1991, 3, 14))


def new_url(patient):
    return reverse("consultations:consultation-create", args=[patient.pk])


def edit_url(consultation):
    return reverse("consultations:consultation-edit", args=[consultation.pk])


def detail_url(consultation):
    return reverse("consultations:consultation-detail", args=[consultation.pk])


def form_errors(response):
    form = response.context["form"]
    return {name: " ".join(errors) for name, errors in form.errors.items()}


def submit_new(client, patient, **overrides):
    response = client.post(new_url(patient), complete_intake(**overrides))
    assert response.status_code == 302, form_errors(response)
    return Consultation.objects.latest("id")


class TestDrafts:
    def test_a_draft_can_be_saved_with_most_questions_unanswered(self, client_as, clinician,
                                                                  patient):
        data = {"consultation_date": "2026-11-20", "concern_melasma": "mild",
                "condition_pregnancy": "no", "save_draft": "1"}

        response = client_as(clinician).post(new_url(patient), data)

        consultation = Consultation.objects.get(patient=patient)
        assert response.status_code == 302
        assert consultation.status == "draft"
        assert [c.concern.code for c in consultation.concerns.all()] == ["melasma"]
        assert consultation.condition_answers.get().answer == "no"
        assert consultation.revisions.count() == 1

    def test_submitting_an_incomplete_intake_names_each_gap_and_saves_nothing(
            self, client_as, clinician, patient):
        data = complete_intake(condition_epilepsy=None, dated_last_tan=None,
                               history_reviewed=None, skin_type="")

        response = client_as(clinician).post(new_url(patient), data)

        errors = form_errors(response)
        assert response.status_code == 200
        assert "Answer this before submitting." in errors["condition_epilepsy"]
        assert "Answer this before submitting." in errors["dated_last_tan"]
        assert "Answer this before submitting." in errors["skin_type"]
        assert "Confirm that you reviewed" in errors["history_reviewed"]
        assert response.context["form"]["concern_acne_scars"].value() == "moderate"
        assert Consultation.objects.count() == 0
        assert ConsultationRevision.objects.count() == 0

    def test_a_submission_needs_a_concern(self, client_as, clinician, patient):
        response = client_as(clinician).post(new_url(patient),
                                             complete_intake(concern_acne_scars=None))

        assert "Choose at least one concern" in errors_text(response)
        assert Consultation.objects.count() == 0

    def test_a_complete_intake_is_submitted(self, client_as, clinician, patient):
        consultation = submit_new(client_as(clinician), patient)

        assert consultation.status == "submitted"
        assert consultation.submitted_at is not None
        assert consultation.fitzpatrick == "III"
        assert consultation.condition_answers.count() == len(
            [k for k in complete_intake() if k.startswith("condition_")])

    def test_a_draft_is_finished_later_and_submitted(self, client_as, clinician, patient):
        client = client_as(clinician)
        client.post(new_url(patient), as_draft(complete_intake(history_reviewed=None)))
        draft = Consultation.objects.get()

        response = client.post(edit_url(draft), complete_intake(version=str(draft.version)))

        draft.refresh_from_db()
        assert response.status_code == 302
        assert draft.status == "submitted"
        assert draft.version == 2

    def test_the_questionnaire_fills_an_unrecorded_phototype(self, client_as, clinician, patient):
        answers = {f"fq_{key}": "3" for key in ["eyes", "hair", "skin", "freckles", "burn",
                                                 "tan_depth", "tan_speed", "face",
                                                 "last_exposure", "face_exposure"]}

        consultation = submit_new(client_as(clinician), patient, fitzpatrick="", **answers)

        assert consultation.fitzpatrick == "V"  # 30 points
        assert consultation.questionnaire["eyes"] == 3


def errors_text(response):
    form = response.context["form"]
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


class TestValidation:
    @pytest.mark.parametrize("overrides, field, message", [
        ({"dated_last_tan": "date"}, "dated_last_tan_date", "Give the date"),
        ({"dated_last_tan": "date", "dated_last_tan_date": "2026-11-25"},
         "dated_last_tan_date", "after the consultation date"),
        ({"dated_last_tan": "date", "dated_last_tan_date": "1980-01-01"},
         "dated_last_tan_date", "before the patient's date of birth"),
        ({"dated_last_tan": "date", "dated_last_tan_date": "yesterday"},
         "dated_last_tan_date", "Enter a valid date"),
        ({"consultation_date": "2099-01-01"}, "consultation_date", "cannot be in the future"),
        ({"consultation_date": "0001-01-05"}, "consultation_date", "cannot be before 1900"),
        ({"acne_scar_subtypes": ["rolling"], "concern_acne_scars": "",
          "concern_melasma": "mild"}, "acne_scar_subtypes", "only when acne scars"),
        ({"concern_acne_scars": "extreme"}, "concern_acne_scars", "Select a valid choice"),
        ({"condition_pregnancy": "maybe"}, "condition_pregnancy", "Select a valid choice"),
        ({"condition_epilepsy": "unsure"}, "condition_epilepsy", "Select a valid choice"),
        ({"dated_last_tan": "ongoing"}, "dated_last_tan", "Select a valid choice"),
    ])
    def test_bad_answers_are_named_beside_the_field(self, client_as, clinician, patient,
                                                    overrides, field, message):
        response = client_as(clinician).post(new_url(patient), complete_intake(**overrides))

        assert response.status_code == 200
        assert message in form_errors(response)[field]
        assert Consultation.objects.count() == 0

    def test_what_was_typed_is_kept_on_error(self, client_as, clinician, patient):
        data = complete_intake(clinician_notes="Prefers afternoon sessions.",
                               condition_smoking="yes", detail_smoking="5 a day",
                               dated_last_tan="date", dated_last_tan_date="2099-01-01")

        form = client_as(clinician).post(new_url(patient), data).context["form"]

        assert form["clinician_notes"].value() == "Prefers afternoon sessions."
        assert form["condition_smoking"].value() == "yes"
        assert form["detail_smoking"].value() == "5 a day"
        assert form["dated_last_tan_date"].value() == "2099-01-01"

    def test_pregnancy_may_be_answered_unsure(self, client_as, clinician, patient):
        consultation = submit_new(client_as(clinician), patient, condition_pregnancy="unsure")

        assert consultation.condition_answers.get(condition__code="pregnancy").answer == "unsure"


class TestEditHistory:
    def test_an_edit_keeps_the_earlier_answers_and_says_who_changed_what(
            self, client_as, clinician, patient, clinic):
        consultation = submit_new(client_as(clinician), patient)
        colleague = UserFactory(clinic=clinic, role="Clinician", first_name="Omar",
                                last_name="Haddad")
        client = client_as(colleague)

        client.post(edit_url(consultation), complete_intake(
            version="1", fitzpatrick="IV", concern_melasma="severe"))

        revisions = list(consultation.revisions.order_by("version"))
        assert [r.version for r in revisions] == [1, 2]
        assert revisions[0].answers["fitzpatrick"] == "III"
        assert revisions[1].answers["fitzpatrick"] == "IV"
        assert revisions[1].saved_by == colleague
        assert revisions[1].changes == ["concerns.melasma", "fitzpatrick"]
        page = client.get(reverse("consultations:consultation-history",
                                  args=[consultation.pk])).content.decode()
        assert "Omar Haddad" in page
        assert "Mei Lin" in page
        assert "concerns.melasma" in page

    def test_a_submitted_intake_stays_complete(self, client_as, clinician, patient):
        consultation = submit_new(client_as(clinician), patient)

        response = client_as(clinician).post(edit_url(consultation), as_draft(complete_intake(
            version="1", condition_epilepsy=None)))

        assert "Answer this before submitting." in form_errors(response)["condition_epilepsy"]
        consultation.refresh_from_db()
        assert consultation.status == "submitted"
        assert consultation.version == 1


class TestConflictingEdits:
    def test_the_second_save_is_refused_and_its_input_kept(self, client_as, clinician, patient,
                                                           clinic):
        consultation = submit_new(client_as(clinician), patient)
        colleague = UserFactory(clinic=clinic, role="Clinician", first_name="Omar",
                                last_name="Haddad")
        first, second = client_as(clinician), Client()
        second.force_login(colleague)
        # Both open the intake at version 1; the first saves.
        opened = first.get(edit_url(consultation)).context["form"]["version"].value()
        assert second.get(edit_url(consultation)).context["form"]["version"].value() == opened
        first.post(edit_url(consultation), complete_intake(version=str(opened),
                                                           fitzpatrick="II"))

        response = second.post(edit_url(consultation), complete_intake(
            version=str(opened), fitzpatrick="VI", clinician_notes="My notes."))

        assert response.status_code == 200
        assert "Mei Lin saved this intake" in errors_text(response)
        assert response.context["form"]["clinician_notes"].value() == "My notes."
        assert response.context["form"]["fitzpatrick"].value() == "VI"
        consultation.refresh_from_db()
        assert consultation.fitzpatrick == "II"
        assert consultation.version == 2
        assert consultation.revisions.count() == 2


class TestNotices:
    @pytest.mark.parametrize("overrides, title", [
        ({"condition_diabetes_controlled": "yes", "condition_diabetes_uncontrolled": "yes"},
         "diabetes"),
        ({"condition_pregnancy": "unsure"}, "unsure"),
        ({"no_medications": "on", "condition_anticoagulants": "yes"}, "medications"),
        ({"fitzpatrick": "I", "dated_last_tan": "date", "dated_last_tan_date": "2026-11-01"},
         "tan"),
        ({"fitzpatrick": "unknown"}, "phototype"),
    ])
    def test_contradictions_are_shown_with_the_policy_applied(self, client_as, clinician,
                                                              patient, overrides, title):
        client = client_as(clinician)

        response = client.post(new_url(patient), complete_intake(**overrides), follow=True)

        notices = response.context["notices"]
        assert len(notices) == 1
        assert title in (notices[0].title + notices[0].message).lower()
        page = response.content.decode()
        assert "Answers that need attention" in page
        assert "1 notice needs your attention." in page

    def test_an_edit_is_checked_against_its_new_answers(self, client_as, clinician, patient):
        consultation = submit_new(client_as(clinician), patient)

        response = client_as(clinician).post(
            edit_url(consultation),
            complete_intake(version="1", condition_diabetes_controlled="yes",
                            condition_diabetes_uncontrolled="yes"), follow=True)

        assert "1 notice needs your attention." in response.content.decode()

    def test_a_clean_intake_has_no_notice(self, client_as, clinician, patient):
        response = client_as(clinician).post(new_url(patient), complete_intake(), follow=True)

        assert response.context["notices"] == ()
        assert "Answers that need attention" not in response.content.decode()


class TestIsolation:
    def test_another_clinics_consultation_is_404(self, client_as, clinician, patient,
                                                 other_clinic):
        consultation = submit_new(client_as(clinician), patient)
        outsider = UserFactory(clinic=other_clinic, role="Clinician")
        client = client_as(outsider)

        for name in ["consultation-detail", "consultation-edit", "consultation-history"]:
            url = reverse(f"consultations:{name}", args=[consultation.pk])
            assert client.get(url).status_code == 404
        assert client.post(edit_url(consultation),
                           complete_intake(version="1")).status_code == 404
        consultation.refresh_from_db()
        assert consultation.version == 1


class TestCatalogueDrivesTheForm:
    def test_a_condition_added_in_the_admin_appears_as_a_question(
            self, client_as, clinician, catalogue_admin, patient):
        admin = client_as(catalogue_admin)
        response = admin.post(reverse("admin:treatments_condition_add"), {
            "code": "gold_thread_implant", "label": "Gold thread implant",
            "question": "Have you ever had gold threads placed under the skin?",
            "detail_prompt": "Where, and when?", "category": "implants_devices",
            "kind": "device", "examples": "", "note": "", "position": "99", "active": "on",
            # The (empty) translations inline on the same page.
            "treatments-texttranslation-content_type-object_id-TOTAL_FORMS": "0",
            "treatments-texttranslation-content_type-object_id-INITIAL_FORMS": "0",
        })
        assert response.status_code == 302
        assert Condition.objects.filter(code="gold_thread_implant").exists()

        page = client_as(clinician).get(new_url(patient)).content.decode()

        assert "Have you ever had gold threads placed under the skin?" in page
        assert 'name="condition_gold_thread_implant"' in page
        assert 'name="detail_gold_thread_implant"' in page

    def test_an_inactive_condition_is_not_asked(self, client_as, clinician, patient):
        Condition.objects.filter(code="smoking").update(active=False)

        page = client_as(clinician).get(new_url(patient)).content.decode()

        assert 'name="condition_smoking"' not in page

    def test_windowed_conditions_are_asked_as_dates_not_yes_no(self, client_as, clinician,
                                                                patient):
        page = client_as(clinician).get(new_url(patient)).content.decode()

        assert 'name="condition_isotretinoin_6m"' not in page
        assert 'name="condition_recent_tan"' not in page
        assert 'name="dated_isotretinoin_last_dose"' in page
        assert 'name="condition_sunburn_current"' in page


def test_the_intake_pages_run_a_constant_number_of_queries(client_as, clinician, patient):
    client = client_as(clinician)
    consultation = submit_new(client, patient, condition_smoking="yes", detail_smoking="2")
    urls = [new_url(patient), edit_url(consultation), detail_url(consultation),
            reverse("consultations:consultation-history", args=[consultation.pk])]
    for url in urls:
        client.get(url)

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            result.append(len(queries))
        return result

    before = counts()
    for _ in range(3):
        client.post(edit_url(consultation), complete_intake(
            version=str(Consultation.objects.get(pk=consultation.pk).version),
            condition_epilepsy="yes", concern_melasma="mild"))

    assert counts() == before


class TestRepeatedSubmission:
    def test_the_same_form_sent_twice_makes_one_consultation(self, client_as, clinician,
                                                             patient):
        client = client_as(clinician)
        key = client.get(new_url(patient)).context["form"]["submission_key"].value()
        data = complete_intake(submission_key=str(key))

        first = client.post(new_url(patient), data)
        second = client.post(new_url(patient), data)

        assert Consultation.objects.filter(patient=patient).count() == 1
        assert first.url == second.url == detail_url(Consultation.objects.get())

    def test_each_new_form_is_its_own_submission(self, client_as, clinician, patient):
        client = client_as(clinician)
        for _ in range(2):
            key = client.get(new_url(patient)).context["form"]["submission_key"].value()
            client.post(new_url(patient), complete_intake(submission_key=str(key)))

        assert Consultation.objects.filter(patient=patient).count() == 2

    def test_another_clinics_key_is_never_matched(self, client_as, clinician, patient,
                                                  other_clinic):
        key = "5c4f1e0a-6a43-4a8e-9a55-0f8e4c7b2d11"
        theirs = ConsultationFactory(patient=PatientFactory(clinic=other_clinic),
                                     submission_key=key)

        response = client_as(clinician).post(new_url(patient),
                                              complete_intake(submission_key=key))

        ours = Consultation.objects.get(patient=patient)
        assert response.status_code == 302
        assert response.url == detail_url(ours)
        assert ours.pk != theirs.pk
        assert Consultation.objects.filter(submission_key=key).count() == 2
