"""Writes to patients and consultations. Each validates, saves inside one transaction and
keeps the history, so the web pages, the demo loader and tests behave identically."""

import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import Truncator

from consultations.models import (
    ConditionAnswer,
    Consultation,
    ConsultationConcern,
    ConsultationRevision,
    DatedAnswer,
    Patient,
)
from clinic.audit import audit
from consultations.access import (
    NotYourClinic,
    atomic_recording_refusals,
    staff_change_check,
)
from consultations.plan_services import LIVE_STATES, plans_recheck
from consultations.selectors import procedures_prefetched
from treatments.models import Concern, Condition, DatedQuestion


class IntakeEditConflict(Exception):
    """Someone else saved the intake after it was opened: this save is refused."""

    def __init__(self, consultation):
        super().__init__("The intake changed since it was opened.")
        self.consultation = consultation


def _person_name(user):
    """The staff member's name as a revision keeps it: a copy, shortened with an ellipsis
    where a long first and last name would not fit the field."""
    limit = ConsultationRevision._meta.get_field("saved_by_name").max_length
    return Truncator(user.get_full_name() or user.get_username()).chars(limit)


@atomic_recording_refusals
def patient_save(*, user, data, patient=None):
    """Register a patient in the user's clinic, or update one of its patients."""
    action = "update" if patient is not None else "create"
    clinic_id = staff_change_check(
        user=user, patient=patient, record=patient, object_type="patient", action=action,
        permission="consultations.change_patient" if patient else "consultations.add_patient")
    patient = patient or Patient(clinic_id=clinic_id, created_by=user)
    for field, value in data.items():
        setattr(patient, field, value)
    patient.full_clean()
    patient.save()
    audit(action, patient, user=user, patient=patient)
    return patient


def _changed_keys(before, after):
    """Which answers differ between two revisions, as 'field' or 'section.code'."""
    changed = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            if key == "questionnaire":
                if old != new:
                    changed.append(key)
                continue
            changed += [f"{key}.{code}" for code in sorted(set(old) | set(new))
                        if old.get(code) != new.get(code)]
        elif old != new:
            changed.append(key)
    return changed


@atomic_recording_refusals
def consultation_save(*, user, patient, answers, submit, consultation=None,
                      expected_version=None, submission_key=None):
    """Save an intake as a draft or submit it, and record the revision.

    `answers` is the plain data IntakeForm.answers() gives. When `consultation` is given,
    `expected_version` must be the version the editor opened: if anyone saved since, the
    save is refused with IntakeEditConflict and nothing is written. A new intake carries
    `submission_key`: sending the same form twice returns the consultation saved the first
    time (two at once: the database's unique key lets only one through). The key is only
    ever matched among this patient's consultations, so another patient's or clinic's key
    never returns their record.
    """
    staff_change_check(
        user=user, patient=patient, record=consultation, object_type="consultation",
        action="update" if consultation is not None else "create",
        permission=("consultations.change_consultation" if consultation is not None
                    else "consultations.add_consultation"))
    now = timezone.now()
    if consultation is None and submission_key is not None:
        repeated = Consultation.objects.filter(submission_key=submission_key,
                                               patient=patient).first()
        if repeated is not None:
            return repeated  # the same form sent again: it was saved the first time
    if consultation is None:
        consultation = Consultation(patient=patient, clinician=user, version=1,
                                    submission_key=submission_key)
    else:
        if consultation.patient_id != patient.pk:
            raise NotYourClinic(entry={"action": "update", "user": user,
                                       "object_type": "consultation",
                                       "object_id": consultation.pk})
        claimed = Consultation.objects.filter(pk=consultation.pk, version=expected_version).update(
            version=F("version") + 1)
        if not claimed:
            raise IntakeEditConflict(Consultation.objects.select_related("updated_by").get(
                pk=consultation.pk))
        consultation.version = expected_version + 1

    consultation.consultation_date = datetime.date.fromisoformat(answers["consultation_date"])
    for field in ("skin_type", "fitzpatrick", "questionnaire", "treatment_area",
                  "acne_scar_subtypes", "clinician_notes", "no_medications",
                  "history_reviewed"):
        setattr(consultation, field, answers[field])
    if submit:
        consultation.status = Consultation.Status.SUBMITTED
        consultation.submitted_at = consultation.submitted_at or now
    consultation.updated_by = user
    if consultation.pk is None and submission_key is not None:
        try:
            with transaction.atomic():
                consultation.save()
        except IntegrityError:
            # The same form, sent twice at the same moment: the other one was saved.
            return Consultation.objects.get(submission_key=submission_key, patient=patient)
    else:
        consultation.save()

    _replace_answers(consultation, answers)
    # Answers read before this save (prefetched with the consultation) are now out of date.
    getattr(consultation, "_prefetched_objects_cache", {}).clear()

    previous = consultation.revisions.order_by("-version").first() if consultation.pk else None
    ConsultationRevision.objects.create(
        consultation=consultation,
        version=consultation.version,
        status=consultation.status,
        saved_by=user,
        saved_by_name=_person_name(user),
        saved_at=now,
        answers=answers,
        changes=_changed_keys(previous.answers if previous else {}, answers),
    )
    audit("submit" if submit else ("create" if consultation.version == 1 else "update"),
          consultation, user=user, patient=patient)
    if consultation.version > 1:
        # An edit can bring a planned procedure a new flag, in whatever state its plan is.
        plans_recheck(consultation.plans.filter(status__in=LIVE_STATES)
                      .prefetch_related(procedures_prefetched("procedures")))
    return consultation


def _replace_answers(consultation, answers):
    concerns = Concern.objects.in_bulk(list(answers["concerns"]), field_name="code")
    conditions = Condition.objects.in_bulk(list(answers["conditions"]), field_name="code")
    questions = DatedQuestion.objects.in_bulk(list(answers["dated"]), field_name="code")
    consultation.concerns.all().delete()
    consultation.condition_answers.all().delete()
    consultation.dated_answers.all().delete()
    ConsultationConcern.objects.bulk_create(
        ConsultationConcern(consultation=consultation, concern=concerns[code], severity=severity)
        for code, severity in answers["concerns"].items()
    )
    ConditionAnswer.objects.bulk_create(
        ConditionAnswer(consultation=consultation, condition=conditions[code],
                        answer=given["answer"], detail=given.get("detail", ""))
        for code, given in answers["conditions"].items()
    )
    DatedAnswer.objects.bulk_create(
        DatedAnswer(consultation=consultation, question=questions[code], answer=given["answer"],
                    date=datetime.date.fromisoformat(given["date"]) if given.get("date") else None)
        for code, given in answers["dated"].items()
    )
