"""Every service and selector is its own last door: it names the staff member it acts for in
the audit trail (also from a command or a job, outside any request), refuses another
clinic's staff and a role that may not do it, and the patient-side services refuse a link
that cannot be used (revoked, expired, locked, not verified) or a plan in the wrong state,
writing nothing and recording the refusal."""

import datetime

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from clinic.models import AuditEvent
from clinic.request_context import current_request
from clinic.roles import CATALOGUE_ADMIN, CLINICIAN
from consultations import selectors
from consultations.access import NotYourClinic, StaffNotAllowed
from consultations.consent import ConsentError, consent_document, consent_seen, consent_sign
from consultations.forms import IntakeForm
from consultations.models import (
    ConditionAnswer,
    Consultation,
    ConsultationRevision,
    Patient,
    PlannedProcedure,
    PlanQuestion,
    PlanShareLink,
    PlanStatusChange,
    SignedConsent,
    TreatmentPlan,
)
from consultations.plan_services import (
    DateOfBirthCheck,
    PlanRuleError,
    plan_accept_by_patient,
    plan_acceptance_acknowledge,
    plan_create,
    plan_link_check_date_of_birth,
    plan_procedure_add,
    plan_procedure_remove,
    plan_procedure_reschedule,
    plan_question_answer,
    plan_question_ask,
    plan_review,
    plan_share,
    plan_share_link_revoke,
    plan_status_change,
)
from consultations.services import consultation_save, patient_save
from tests.consultations.intake_data import complete_intake
from tests.factories import PatientFactory, UserFactory
from treatments.models import Treatment

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1988, 8, 8)
NEEDLING = "MICRONEEDLING"
FIRST_DAY = datetime.date(2027, 2, 1)


def intake_answers(patient):
    """A complete intake as the save service takes it, without a page."""
    form = IntakeForm(complete_intake(), catalogue=selectors.intake_catalogue(),
                      patient=patient, submitting=True)
    assert form.is_valid(), form.errors
    return form.answers()


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Nora Byrne", date_of_birth=BIRTH)


@pytest.fixture
def consultation(clinician, patient):
    return consultation_save(user=clinician, patient=patient, answers=intake_answers(patient),
                             submit=True)


def draft_plan(user, consultation):
    plan = plan_create(user=user, consultation=consultation)
    procedure = plan_procedure_add(user=user, plan=plan, first_date=FIRST_DAY,
                                   treatment=Treatment.objects.get(code=NEEDLING))
    return plan, procedure


def shared_plan(user, consultation):
    plan, procedure = draft_plan(user, consultation)
    link, _token = plan_share(user=user, plan=plan, link_url=str)
    return plan, procedure, link


def verified(link):
    """The patient proves their date of birth on the link, as the gate page does."""
    assert plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)[0] == "accepted"
    link.refresh_from_db()
    return link


def signing_request():
    return RequestFactory().post("/", HTTP_USER_AGENT="TestBrowser/1.0")


def signed_by_patient(plan, procedure, link):
    return consent_sign(
        request=signing_request(), plan=plan, procedure=procedure, language="en",
        typed_name="Nora Byrne", agreed=True, signature="", typed_only=True,
        shown_sha256=consent_document(procedure, "en")["sha256"], link=link)


def last_entry_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# -- 1. Each names who acted ------------------------------------------------------------------
# Each case prepares, as the clinic's clinician, what its call needs, and returns the action
# the call records and the call, for whichever staff member makes it.

def registering_a_patient(clinician, consultation):
    return "create", lambda user: patient_save(user=user, data={
        "full_name": "Ines Duarte", "date_of_birth": datetime.date(1985, 1, 1),
        "preferred_language": "en"})


def correcting_a_patient(clinician, consultation):
    return "update", lambda user: patient_save(user=user, patient=consultation.patient,
                                               data={"phone": "+44 20 7946 0001"})


def submitting_an_intake(clinician, consultation):
    patient = consultation.patient
    answers = intake_answers(patient)
    return "submit", lambda user: consultation_save(user=user, patient=patient,
                                                    answers=answers, submit=True)


def editing_an_intake(clinician, consultation):
    patient = consultation.patient
    answers = intake_answers(patient)
    return "submit", lambda user: consultation_save(
        user=user, patient=patient, answers=answers, submit=True, consultation=consultation,
        expected_version=consultation.version)


def starting_a_plan(clinician, consultation):
    return "create", lambda user: plan_create(user=user, consultation=consultation)


def adding_a_procedure(clinician, consultation):
    plan = plan_create(user=clinician, consultation=consultation)
    return "add_procedure", lambda user: plan_procedure_add(
        user=user, plan=plan, treatment=Treatment.objects.get(code=NEEDLING))


def rescheduling_a_procedure(clinician, consultation):
    plan, procedure = draft_plan(clinician, consultation)
    return "reschedule_procedure", lambda user: plan_procedure_reschedule(
        user=user, plan=plan, procedure=procedure, first_date=FIRST_DAY, sessions=2,
        interval_weeks=6)


def removing_a_procedure(clinician, consultation):
    plan, procedure = draft_plan(clinician, consultation)
    return "remove_procedure", lambda user: plan_procedure_remove(user=user, plan=plan,
                                                                  procedure=procedure)


def moving_a_plan(clinician, consultation):
    plan, _procedure = draft_plan(clinician, consultation)
    return "status_shared", lambda user: plan_status_change(user=user, plan=plan,
                                                            to="shared")


def reviewing_a_plan(clinician, consultation):
    plan, _procedure = draft_plan(clinician, consultation)
    return "review", lambda user: plan_review(user=user, plan=plan, justifications={})


def sharing_a_plan(clinician, consultation):
    plan, _procedure = draft_plan(clinician, consultation)
    return "share", lambda user: plan_share(user=user, plan=plan, link_url=str)


def revoking_a_link(clinician, consultation):
    _plan, _procedure, link = shared_plan(clinician, consultation)
    return "revoke_link", lambda user: plan_share_link_revoke(user=user, link=link)


def answering_a_question(clinician, consultation):
    _plan, _procedure, link = shared_plan(clinician, consultation)
    question = plan_question_ask(link=verified(link), message="Will it hurt?")
    return "answer_question", lambda user: plan_question_answer(
        user=user, question=question, answer="A little, for a day.")


def seeing_an_acceptance(clinician, consultation):
    plan, _procedure, link = shared_plan(clinician, consultation)
    plan_accept_by_patient(link=verified(link))
    plan.refresh_from_db()
    return "acceptance_seen", lambda user: plan_acceptance_acknowledge(user=user, plan=plan)


def seeing_a_signed_consent(clinician, consultation):
    plan, procedure, link = shared_plan(clinician, consultation)
    consent = signed_by_patient(plan, procedure, verified(link))
    return "consent_seen", lambda user: consent_seen(user=user, consent=consent)


def handing_the_screen_over_for_consent(clinician, consultation):
    plan, procedure, _link = shared_plan(clinician, consultation)
    shown = consent_document(procedure, "en")["sha256"]
    return "sign_consent", lambda user: consent_sign(
        request=signing_request(), plan=plan, procedure=procedure, language="en",
        typed_name="Nora Byrne", agreed=True, signature="", typed_only=True,
        shown_sha256=shown, handed_over_by=user)


def listing_patients(clinician, consultation):
    return "list", lambda user: list(selectors.patient_list(user=user))


def opening_a_patient(clinician, consultation):
    return "view", lambda user: selectors.patient_get(user=user, pk=consultation.patient_id)


def opening_an_intake(clinician, consultation):
    return "view", lambda user: selectors.consultation_get(user=user, pk=consultation.pk)


def opening_a_recommendation(clinician, consultation):
    return "view", lambda user: selectors.consultation_summary_get(user=user,
                                                                   pk=consultation.pk)


def opening_a_plan(clinician, consultation):
    plan, _procedure = draft_plan(clinician, consultation)
    return "view", lambda user: selectors.plan_get(user=user, pk=plan.pk)


STAFF_CHANGES = [
    registering_a_patient, correcting_a_patient, submitting_an_intake, editing_an_intake,
    starting_a_plan, adding_a_procedure, rescheduling_a_procedure, removing_a_procedure,
    moving_a_plan, reviewing_a_plan, sharing_a_plan, revoking_a_link, answering_a_question,
    seeing_an_acceptance, seeing_a_signed_consent, handing_the_screen_over_for_consent]
STAFF_READS = [listing_patients, opening_a_patient, opening_an_intake,
               opening_a_recommendation, opening_a_plan]


def named(cases):
    return {"argvalues": cases, "ids": [case.__name__ for case in cases]}


@pytest.mark.parametrize("prepare", **named(STAFF_CHANGES + STAFF_READS))
def test_outside_any_request_the_trail_names_the_clinician_who_acted(
        prepare, clinician, consultation):
    action, act = prepare(clinician, consultation)
    assert current_request() is None  # as in a management command or a background job
    before = last_entry_id()

    act(clinician)

    entries = list(AuditEvent.objects.filter(id__gt=before, action=action))
    assert entries, f"no {action!r} entry was recorded"
    assert [(e.actor, e.actor_label, e.outcome) for e in entries] == [
        (clinician, clinician.username, "allowed")] * len(entries)


def test_a_refused_read_outside_a_request_names_who_asked(clinician, other_clinic):
    stranger = PatientFactory(clinic=other_clinic)

    with pytest.raises(Http404):
        selectors.patient_get(user=clinician, pk=stranger.pk)

    entry = AuditEvent.objects.get(outcome="denied")
    assert (entry.actor, entry.object_id) == (clinician, str(stranger.pk))


# -- 2. Each refuses another clinic's staff, and a role that may not -------------------------

RECORDS = [Patient, Consultation, ConsultationRevision, ConditionAnswer, TreatmentPlan,
           PlannedProcedure, PlanStatusChange, PlanShareLink, PlanQuestion, SignedConsent]


def patient_records():
    """Every row a service could write, as it stands."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in RECORDS}


def assert_refused_and_recorded(act, user, error):
    before_rows, before_entry = patient_records(), last_entry_id()

    with pytest.raises(error):
        act(user)

    assert patient_records() == before_rows  # nothing written, nothing half-saved
    entries = AuditEvent.objects.filter(id__gt=before_entry)
    assert [(e.actor, e.outcome) for e in entries] == [(user, "denied")]
    return entries.get()


# Another clinic's clinician may register patients, in their own clinic.
CHANGES_TO_THIS_CLINIC = [case for case in STAFF_CHANGES if case is not registering_a_patient]


@pytest.mark.parametrize("prepare", **named(CHANGES_TO_THIS_CLINIC))
def test_another_clinics_clinician_is_refused_and_the_refusal_recorded(
        prepare, clinician, consultation, other_clinic):
    outsider = UserFactory(clinic=other_clinic, role=CLINICIAN)
    _action, act = prepare(clinician, consultation)

    entry = assert_refused_and_recorded(act, outsider, NotYourClinic)

    assert entry.patient is None  # the trail keeps the attempt, not the stranger's patient


@pytest.mark.parametrize("prepare", **named(STAFF_CHANGES))
@pytest.mark.parametrize("role", [CATALOGUE_ADMIN, None], ids=["catalogue admin", "no role"])
def test_staff_whose_role_may_not_change_patient_records_are_refused(
        prepare, role, clinician, consultation, clinic):
    colleague = UserFactory(clinic=clinic, role=role)
    _action, act = prepare(clinician, consultation)

    assert_refused_and_recorded(act, colleague, StaffNotAllowed)


def test_a_refused_change_is_a_403_where_no_page_catches_it(clinician, consultation,
                                                            other_clinic):
    outsider = UserFactory(clinic=other_clinic, role=CLINICIAN)
    _action, act = moving_a_plan(clinician, consultation)

    with pytest.raises(PermissionDenied):
        act(outsider)


# -- 3. The patient's side checks the link and the plan itself -------------------------------

def revoked(link, clinician):
    plan_share_link_revoke(user=clinician, link=link)


def expired(link, clinician):
    PlanShareLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1))


def locked(link, clinician):
    PlanShareLink.objects.filter(pk=link.pk).update(locked_at=timezone.now())


def confirmed_too_long_ago(link, clinician):
    PlanShareLink.objects.filter(pk=link.pk).update(
        last_opened_at=timezone.now() - datetime.timedelta(
            minutes=settings.PLAN_LINK_VISIT_MINUTES + 1))


UNUSABLE = [revoked, expired, locked, confirmed_too_long_ago]


def accepting(plan, procedure, link):
    return "accept", lambda: plan_accept_by_patient(link=link)


def asking(plan, procedure, link):
    return "question", lambda: plan_question_ask(link=link, message="Will it hurt?")


def signing(plan, procedure, link):
    return "sign_consent", lambda: signed_by_patient(plan, procedure, link)


PATIENT_ACTS = [accepting, asking, signing]


@pytest.fixture
def shared(clinician, consultation):
    return shared_plan(clinician, consultation)


def assert_link_refused(act, action, link, error):
    before_rows, before_entry = patient_records(), last_entry_id()

    with pytest.raises(error) as refused:
        act()

    assert patient_records() == before_rows
    entries = AuditEvent.objects.filter(id__gt=before_entry)
    assert [(e.action, e.actor, e.actor_label, e.outcome) for e in entries] == [
        (action, None, f"patient link #{link.pk}", "denied")]
    return refused.value


@pytest.mark.parametrize("patient_act", **named(PATIENT_ACTS))
@pytest.mark.parametrize("made_unusable", **named(UNUSABLE))
def test_a_link_that_cannot_be_used_is_refused_by_the_service_itself(
        patient_act, made_unusable, shared, clinician):
    plan, procedure, link = shared
    verified(link)
    made_unusable(link, clinician)
    action, act = patient_act(plan, procedure, link)  # the link as the page had loaded it

    error = assert_link_refused(act, action, link, (PlanRuleError, ConsentError))

    assert error.message


@pytest.mark.parametrize("patient_act", **named(PATIENT_ACTS))
def test_nothing_is_done_before_the_date_of_birth_is_confirmed(patient_act, shared):
    plan, procedure, link = shared
    action, act = patient_act(plan, procedure, link)

    error = assert_link_refused(act, action, link, (PlanRuleError, ConsentError))

    assert "date of birth" in error.message


@pytest.mark.parametrize("patient_act", **named(PATIENT_ACTS))
def test_a_confirmed_link_still_works(patient_act, shared):
    plan, procedure, link = shared
    action, act = patient_act(plan, procedure, verified(link))

    act()

    assert AuditEvent.objects.filter(action=action, outcome="allowed").exists()


def test_questions_are_refused_while_the_clinic_reopens_the_plan(shared, clinician):
    plan, _procedure, link = shared
    verified(link)
    plan_status_change(user=clinician, plan=plan, to="accepted")
    plan_status_change(user=clinician, plan=plan, to="draft", reason="Add a session.")

    with pytest.raises(PlanRuleError, match="cannot take questions"):
        plan_question_ask(link=link, message="Will it hurt?")

    assert not PlanQuestion.objects.exists()


def test_a_reopened_plan_cannot_be_accepted(shared, clinician):
    plan, _procedure, link = shared
    verified(link)
    plan_status_change(user=clinician, plan=plan, to="accepted")
    plan_status_change(user=clinician, plan=plan, to="draft", reason="Add a session.")

    with pytest.raises(PlanRuleError, match="cannot be accepted now"):
        plan_accept_by_patient(link=link)

    plan.refresh_from_db()
    assert plan.status == "draft"


def test_a_link_cannot_sign_for_another_plan(shared, clinician, consultation):
    plan, procedure, link = shared
    other_plan, other_procedure, _other_link = shared_plan(clinician, consultation)
    verified(link)

    with pytest.raises(ConsentError, match="not in this plan"):
        signed_by_patient(other_plan, other_procedure, link)

    assert not SignedConsent.objects.exists()


class TestTheDateOfBirthCheck:
    @pytest.mark.parametrize("made_unusable", **named([revoked, expired, locked]))
    def test_an_unusable_link_is_refused_even_with_the_right_date(
            self, made_unusable, shared, clinician):
        _plan, _procedure, link = shared
        made_unusable(link, clinician)
        before = last_entry_id()

        outcome, _wait = plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)

        assert outcome == made_unusable.__name__
        link.refresh_from_db()
        assert link.last_opened_at is None and link.failed_attempts == 0
        assert list(AuditEvent.objects.filter(id__gt=before).values_list(
            "action", "outcome")) == [("verify", "denied")]

    def test_a_plan_the_patient_no_longer_sees_is_refused(self, shared, clinician):
        plan, _procedure, link = shared
        plan_status_change(user=clinician, plan=plan, to="accepted")
        plan_status_change(user=clinician, plan=plan, to="draft", reason="Add a session.")

        outcome, _wait = plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)

        assert outcome == DateOfBirthCheck.CLOSED
        link.refresh_from_db()
        assert link.last_opened_at is None

    def test_a_try_during_the_wait_is_refused_and_recorded(self, shared, settings):
        settings.PLAN_LINK_RETRY_SECONDS = 60
        _plan, _procedure, link = shared
        plan_link_check_date_of_birth(link=link, date_of_birth=datetime.date(1990, 1, 1))
        before = last_entry_id()

        outcome, wait = plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)

        assert outcome == DateOfBirthCheck.WAIT and 0 < wait <= 60
        link.refresh_from_db()
        assert link.failed_attempts == 1 and link.last_opened_at is None
        entries = AuditEvent.objects.filter(id__gt=before)
        assert [(e.action, e.actor_label, e.outcome) for e in entries] == [
            ("verify", f"patient link #{link.pk}", "denied")]
