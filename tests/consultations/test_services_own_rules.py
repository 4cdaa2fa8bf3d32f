"""Every service and selector is its own last door: it names the staff member it acts for in
the audit trail (also from a command or a job, outside any request), refuses another
clinic's staff and a role that may not do it, and the patient-side services refuse a link
that cannot be used (revoked, expired, locked, not verified) or a plan in the wrong state,
writing nothing and recording the refusal."""

import datetime

import pytest
from django.http import Http404
from django.test import RequestFactory

from clinic.models import AuditEvent
from clinic.request_context import current_request
from consultations import selectors
from consultations.consent import consent_document, consent_seen, consent_sign
from consultations.forms import IntakeForm
from consultations.plan_services import (
    DateOfBirthCheck,
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
from tests.factories import PatientFactory
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
        shown_sha256=consent_document(procedure, "en")["sha256"],
        actor_label=f"patient link #{link.pk}")


def last_entry_id():
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


# -- 1. Each names who acted ------------------------------------------------------------------
# Each case prepares what its call needs and returns the call and the action it records.

def registering_a_patient(user, consultation):
    return "create", lambda: patient_save(user=user, data={
        "full_name": "Ines Duarte", "date_of_birth": datetime.date(1985, 1, 1),
        "preferred_language": "en"})


def correcting_a_patient(user, consultation):
    return "update", lambda: patient_save(user=user, patient=consultation.patient,
                                          data={"phone": "+44 20 7946 0001"})


def submitting_an_intake(user, consultation):
    patient = consultation.patient
    return "submit", lambda: consultation_save(user=user, patient=patient,
                                               answers=intake_answers(patient), submit=True)


def starting_a_plan(user, consultation):
    return "create", lambda: plan_create(user=user, consultation=consultation)


def adding_a_procedure(user, consultation):
    plan = plan_create(user=user, consultation=consultation)
    return "add_procedure", lambda: plan_procedure_add(
        user=user, plan=plan, treatment=Treatment.objects.get(code=NEEDLING))


def rescheduling_a_procedure(user, consultation):
    plan, procedure = draft_plan(user, consultation)
    return "reschedule_procedure", lambda: plan_procedure_reschedule(
        user=user, plan=plan, procedure=procedure, first_date=FIRST_DAY, sessions=2,
        interval_weeks=6)


def removing_a_procedure(user, consultation):
    plan, procedure = draft_plan(user, consultation)
    return "remove_procedure", lambda: plan_procedure_remove(user=user, plan=plan,
                                                             procedure=procedure)


def moving_a_plan(user, consultation):
    plan, _procedure = draft_plan(user, consultation)
    return "status_shared", lambda: plan_status_change(user=user, plan=plan, to="shared")


def reviewing_a_plan(user, consultation):
    plan, _procedure = draft_plan(user, consultation)
    return "review", lambda: plan_review(user=user, plan=plan, justifications={})


def sharing_a_plan(user, consultation):
    plan, _procedure = draft_plan(user, consultation)
    return "share", lambda: plan_share(user=user, plan=plan, link_url=str)


def revoking_a_link(user, consultation):
    _plan, _procedure, link = shared_plan(user, consultation)
    return "revoke_link", lambda: plan_share_link_revoke(user=user, link=link)


def answering_a_question(user, consultation):
    _plan, _procedure, link = shared_plan(user, consultation)
    question = plan_question_ask(link=verified(link), message="Will it hurt?")
    return "answer_question", lambda: plan_question_answer(user=user, question=question,
                                                           answer="A little, for a day.")


def seeing_an_acceptance(user, consultation):
    plan, _procedure, link = shared_plan(user, consultation)
    plan_accept_by_patient(link=verified(link))
    plan.refresh_from_db()
    return "acceptance_seen", lambda: plan_acceptance_acknowledge(user=user, plan=plan)


def seeing_a_signed_consent(user, consultation):
    plan, procedure, link = shared_plan(user, consultation)
    consent = signed_by_patient(plan, procedure, verified(link))
    return "consent_seen", lambda: consent_seen(user=user, consent=consent)


def handing_the_screen_over_for_consent(user, consultation):
    plan, procedure, _link = shared_plan(user, consultation)
    return "sign_consent", lambda: consent_sign(
        request=signing_request(), plan=plan, procedure=procedure, language="en",
        typed_name="Nora Byrne", agreed=True, signature="", typed_only=True,
        shown_sha256=consent_document(procedure, "en")["sha256"], handed_over_by=user)


def listing_patients(user, consultation):
    return "list", lambda: list(selectors.patient_list(user=user))


def opening_a_patient(user, consultation):
    return "view", lambda: selectors.patient_get(user=user, pk=consultation.patient_id)


def opening_an_intake(user, consultation):
    return "view", lambda: selectors.consultation_get(user=user, pk=consultation.pk)


def opening_a_recommendation(user, consultation):
    return "view", lambda: selectors.consultation_summary_get(user=user, pk=consultation.pk)


def opening_a_plan(user, consultation):
    plan, _procedure = draft_plan(user, consultation)
    return "view", lambda: selectors.plan_get(user=user, pk=plan.pk)


ACTS = [registering_a_patient, correcting_a_patient, submitting_an_intake, starting_a_plan,
        adding_a_procedure, rescheduling_a_procedure, removing_a_procedure, moving_a_plan,
        reviewing_a_plan, sharing_a_plan, revoking_a_link, answering_a_question,
        seeing_an_acceptance, seeing_a_signed_consent, handing_the_screen_over_for_consent,
        listing_patients, opening_a_patient, opening_an_intake, opening_a_recommendation,
        opening_a_plan]


@pytest.mark.parametrize("prepare", ACTS, ids=[act.__name__ for act in ACTS])
def test_outside_any_request_the_trail_names_the_clinician_who_acted(
        prepare, clinician, consultation):
    action, act = prepare(clinician, consultation)
    assert current_request() is None  # as in a management command or a background job
    before = last_entry_id()

    act()

    entries = list(AuditEvent.objects.filter(id__gt=before, action=action))
    assert entries, f"no {action!r} entry was recorded"
    assert [(e.actor, e.actor_label) for e in entries] == [
        (clinician, clinician.username)] * len(entries)


def test_a_refused_read_outside_a_request_names_who_asked(clinician, other_clinic):
    stranger = PatientFactory(clinic=other_clinic)

    with pytest.raises(Http404):
        selectors.patient_get(user=clinician, pk=stranger.pk)

    entry = AuditEvent.objects.get(outcome="denied")
    assert (entry.actor, entry.object_id) == (clinician, str(stranger.pk))
