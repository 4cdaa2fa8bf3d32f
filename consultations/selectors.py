"""Permission-aware reads of patients and consultations.

A clinician sees only their own clinic's patients. Every view that takes a patient or a
consultation from the URL goes through these functions, which answer 404 for anything else.
"""

import datetime

from django.db.models import Count, Max, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.utils import timezone

from clinic.audit import audit, audit_shown
from clinic.models import AuditEvent
from clinic.roles import staff_membership
from consultations.intake import IntakeCatalogue, intake_from_consultation
from consultations.models import (
    ConditionAnswer,
    Consultation,
    ConsultationConcern,
    ConsultationRevision,
    DatedAnswer,
    Patient,
    PlannedProcedure,
    PlanQuestion,
    PlanShareLink,
    SignedConsent,
    TreatmentPlan,
    course_dates,
)
from treatments.engine import check_course, normalise, recommend
from treatments.models import Concern, Condition, ConditionWindow, DatedQuestion
from treatments.snapshot import catalogue_snapshot


def user_clinic_id(user):
    """The clinic a staff member works for, or None (superusers without one see nothing)."""
    membership = staff_membership(user)
    return membership.clinic_id if membership else None


def _clinic_patients(user):
    if not user.has_perm("consultations.view_patient"):
        return Patient.objects.none()
    clinic_id = user_clinic_id(user)
    if clinic_id is None:
        return Patient.objects.none()
    return Patient.objects.filter(clinic_id=clinic_id)


def _parse_date(text):
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def patient_list(*, user, query=""):
    """The clinic's patients, searched by name, date of birth or phone, with the date of
    their latest consultation."""
    patients = _clinic_patients(user)
    query = query.strip()
    if query:
        match = Q(full_name__icontains=query)
        birth = _parse_date(query)
        if birth is not None:
            match |= Q(date_of_birth=birth)
        digits = "".join(ch for ch in query if ch.isdigit())
        if len(digits) >= 3:
            match |= Q(phone_digits__contains=digits)
        patients = patients.filter(match)
    audit("list", user=user, object_type="patient")
    return patients.annotate(last_consultation=Max("consultations__consultation_date")).order_by(
        "full_name", "date_of_birth", "id")


def denied(object_type, pk, *, user):
    """Record a refused read, then answer as if nothing were there."""
    audit("view", user=user, object_type=object_type, object_id=pk,
          outcome=AuditEvent.Outcome.DENIED)
    return Http404()


def patient_get(*, user, pk):
    patient = _clinic_patients(user).filter(pk=pk).first()
    if patient is None:
        raise denied("patient", pk, user=user)
    audit("view", patient, user=user, patient=patient)
    return patient


def patient_consultations(patient):
    return patient.consultations.select_related("clinician").order_by("-consultation_date", "-id")


def _clinic_consultations(user):
    if not user.has_perm("consultations.view_consultation"):
        return Consultation.objects.none()
    clinic_id = user_clinic_id(user)
    if clinic_id is None:
        return Consultation.objects.none()
    return Consultation.objects.filter(patient__clinic_id=clinic_id)


def answers_prefetched():
    """The answers an intake is read from, each with the catalogue record it answers."""
    return (
        Prefetch("concerns", queryset=ConsultationConcern.objects.select_related("concern")),
        Prefetch("condition_answers",
                 queryset=ConditionAnswer.objects.select_related("condition")),
        Prefetch("dated_answers", queryset=DatedAnswer.objects.select_related("question")),
    )


def consultation_with_answers(consultation):
    """The consultation with its answers loaded (as it is when they already are), so that
    reading the intake costs a fixed number of queries."""
    if "condition_answers" in getattr(consultation, "_prefetched_objects_cache", {}):
        return consultation
    return (Consultation.objects.filter(pk=consultation.pk).select_related("patient__clinic")
            .prefetch_related(*answers_prefetched()).get())


def _consultation_audited_get(consultations, pk, *, user):
    try:
        consultation = consultations.get(pk=pk)
    except Consultation.DoesNotExist:
        raise denied("consultation", pk, user=user) from None
    audit("view", consultation, user=user, patient=consultation.patient)
    return consultation


def consultation_get(*, user, pk):
    """One consultation of the user's clinic with all its answers, or 404."""
    return _consultation_audited_get(
        _clinic_consultations(user).select_related("patient", "clinician", "updated_by")
        .prefetch_related(*answers_prefetched()), pk, user=user)


def consultation_summary_get(*, user, pk):
    """One consultation of the user's clinic with its patient, but not its answers, and the
    id of its open draft plan if any (`open_plan_id`), or 404."""
    open_plans = (TreatmentPlan.objects.filter(consultation=OuterRef("pk"),
                                                status=TreatmentPlan.Status.DRAFT)
                  .order_by("-created_at", "-id"))
    return _consultation_audited_get(
        _clinic_consultations(user).select_related("patient")
        .annotate(open_plan_id=Subquery(open_plans.values("pk")[:1])), pk, user=user)


def consultation_revisions(consultation):
    return ConsultationRevision.objects.filter(consultation=consultation).order_by("-version")


def dashboard(*, user):
    """What a clinician needs first thing: today's consultations, their own drafts, the
    clinic's recently seen patients and its inbox. Every patient it names is recorded as
    shown to them."""
    consultations = _clinic_consultations(user).select_related("patient", "clinician")
    today = timezone.localdate()
    page = {
        "today": list(consultations.filter(consultation_date=today)
                      .order_by("patient__full_name")),
        "drafts": list(consultations.filter(status=Consultation.Status.DRAFT, clinician=user)
                       .order_by("-updated_at")[:20]),
        "recent_patients": list(_clinic_patients(user).order_by("-updated_at")[:10]),
        "inbox": inbox(user=user),
    }
    audit_shown("dashboard", [consultation.patient for consultation in page["today"]]
                + [consultation.patient for consultation in page["drafts"]]
                + page["recent_patients"] + _inbox_patients(page["inbox"]), user=user)
    return page


def intake_catalogue():
    """What the intake asks, read from the catalogue: active concerns, the yes/no conditions
    (those not derived from a date), and the dated questions with their windows."""
    windowed = ConditionWindow.objects.values("condition_id")
    conditions = list(
        Condition.objects.filter(active=True).exclude(pk__in=windowed)
        .exclude(pk__in=DatedQuestion.objects.filter(ongoing_condition__isnull=False)
                 .values("ongoing_condition_id"))
        .order_by("position", "code")
    )
    questions = list(
        DatedQuestion.objects.filter(active=True).select_related("ongoing_condition")
        .prefetch_related(Prefetch("windows",
                                   queryset=ConditionWindow.objects.select_related("condition")))
        .order_by("position", "code")
    )
    return IntakeCatalogue(
        concerns=list(Concern.objects.filter(active=True).order_by("label")),
        conditions=conditions,
        dated_questions=questions,
    )


def consultation_notices(consultation):
    """The conflict-policy notices for a consultation's current answers, each naming the
    policy the engine will apply."""
    intake = intake_from_consultation(consultation_with_answers(consultation))
    return normalise(intake, catalogue_snapshot()).notes


def treatment_day(consultation, today=None):
    """The first day a treatment could still be given for this consultation: its own day,
    or today once that has passed."""
    return max(consultation.consultation_date, today or timezone.localdate())


def consultation_recommendation(consultation, snapshot=None, as_of=None):
    """The engine's recommendation for a consultation's current answers against the current
    catalogue, for treatment on `as_of` (by default the consultation's date): always
    computed afresh, never a stored copy."""
    snapshot = snapshot or catalogue_snapshot()
    return recommend(intake_from_consultation(consultation_with_answers(consultation), as_of),
                     snapshot)


def course_check(consultation, code, days, today=None):
    """The engine's check of a course of one treatment on its session days (undated: the
    first day it could be given), with the first day it becomes possible."""
    start = treatment_day(consultation, today)
    intake = intake_from_consultation(consultation_with_answers(consultation))
    return check_course(intake, catalogue_snapshot(), code, days, start)


def plan_checks(plan, today=None):
    """Each planned procedure's course check (by procedure id), from the current answers,
    catalogue and day: a session dated inside a window carries its flag, one after it does
    not, and an undated one is checked on the first day it could be given."""
    snapshot = catalogue_snapshot()
    intake = intake_from_consultation(consultation_with_answers(plan.consultation))
    start = treatment_day(plan.consultation, today)
    return {procedure.pk: check_course(intake, snapshot, procedure.treatment.code,
                                       procedure.proposed_dates() or course_dates(
                                           start, procedure.sessions,
                                           procedure.interval_weeks), start)
            for procedure in plan.procedures.all()}


def patient_plans(patient):
    return (TreatmentPlan.objects.filter(consultation__patient=patient)
            .select_related("consultation__patient")
            .prefetch_related(procedures_prefetched("procedures")).order_by("-created_at", "-id"))


def _clinic_plans(user):
    return TreatmentPlan.objects.filter(consultation__in=_clinic_consultations(user))


# What waits in the inbox, each rule stated once (a prefix reads it from a plan's side).
def _unanswered(prefix=""):
    return Q(**{f"{prefix}answered_at__isnull": True})


def _unseen_from_link(prefix=""):
    return Q(**{f"{prefix}seen_at__isnull": True, f"{prefix}in_clinic": False})


UNSEEN_ACCEPTANCE = Q(status=TreatmentPlan.Status.ACCEPTED, accepted_by__isnull=True,
                      acceptance_seen_at__isnull=True)
AWAITING_REVIEW = Q(needs_review_since__isnull=False) & ~Q(
    status=TreatmentPlan.Status.WITHDRAWN)


def inbox(*, user, limit=20):
    """What waits for the clinic's answer, oldest first: patients' questions, acceptances
    and consents signed from the patient's link that nobody has seen, plans that need
    review. (The dashboard shows it, and records the patients it names.)"""
    return {
        "questions": list(PlanQuestion.objects.filter(_unanswered(),
                                                      plan__in=_clinic_plans(user))
                          .select_related("plan__consultation__patient")
                          .order_by("asked_at", "id")[:limit]),
        "acceptances": list(_clinic_plans(user).filter(UNSEEN_ACCEPTANCE)
                            .select_related("consultation__patient")
                            .order_by("accepted_at", "id")[:limit]),
        "reviews": list(plans_needing_review(user=user, limit=limit)),
        "consents": list(SignedConsent.objects.filter(_unseen_from_link(),
                                                      plan__in=_clinic_plans(user))
                         .select_related("plan__consultation__patient", "treatment")
                         .order_by("signed_at", "id")[:limit]),
    }


def _inbox_patients(waiting):
    """The patients an inbox names, in its order."""
    return ([question.plan.consultation.patient for question in waiting["questions"]]
            + [plan.consultation.patient for plan in waiting["acceptances"]]
            + [plan.consultation.patient for plan in waiting["reviews"]]
            + [consent.plan.consultation.patient for consent in waiting["consents"]])


def inbox_counts(*, user):
    """How many of each kind wait in the inbox, in one query."""
    if not user.has_perm("consultations.view_treatmentplan"):
        return {}
    return _clinic_plans(user).aggregate(
        questions=Count("questions", distinct=True, filter=_unanswered("questions__")),
        consents=Count("consents", distinct=True, filter=_unseen_from_link("consents__")),
        acceptances=Count("id", distinct=True, filter=UNSEEN_ACCEPTANCE),
        reviews=Count("id", distinct=True, filter=AWAITING_REVIEW),
    )


def plans_needing_review(*, user, limit=20):
    """The clinic's plans with a planned procedure whose new flag nobody has reviewed,
    longest waiting first."""
    return (_clinic_plans(user).filter(AWAITING_REVIEW).select_related("consultation__patient")
            .order_by("needs_review_since", "id")[:limit])


def planned_procedures():
    """Planned procedures with the treatment and the justifying clinician they show."""
    return PlannedProcedure.objects.select_related("treatment__category", "justified_by")


def procedures_prefetched(lookup):
    return Prefetch(lookup, queryset=planned_procedures())


def plan_get(*, user, pk):
    """One plan of the user's clinic with its procedures, or 404."""
    plan = (
        TreatmentPlan.objects.filter(pk=pk, consultation__in=_clinic_consultations(user))
        .select_related("consultation__patient", "created_by", "reviewed_by")
        .prefetch_related(procedures_prefetched("procedures"))
        .first()
    )
    if plan is None:
        raise denied("treatmentplan", pk, user=user)
    audit("view", plan, user=user, patient=plan.consultation.patient)
    return plan


def flag_key(flag):
    return [flag.code, flag.severity]


def plan_review_needed(plan, checks):
    """For each planned procedure, the flags its sessions carry now that the clinician has
    not reviewed (an intake edit, a catalogue change or a moved date can bring new ones);
    a procedure no longer in the active catalogue is listed with none."""
    pending = {}
    for procedure in plan.procedures.all():
        check = checks.get(procedure.pk)
        reviewed = [list(item) for item in procedure.reviewed_flags]
        new = [flag for flag in check.flags if flag_key(flag) not in reviewed] if check else []
        if new or check is None:
            pending[procedure.pk] = new
    return pending


def plan_for_link(token_hash):
    """The share link with that token hash and its plan, or None. Only the patient's own
    plan can be reached from their link."""
    try:
        return (PlanShareLink.objects.select_related("plan__consultation__patient__clinic")
                .get(token_hash=token_hash))
    except PlanShareLink.DoesNotExist:
        return None

