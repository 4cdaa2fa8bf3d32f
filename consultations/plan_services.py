"""Writes to treatment plans. The contraindication rules are enforced here, so no page or
command can put an excluded procedure into a plan or a caution in without a justification."""

import datetime
import hashlib
import math
import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext as _

from clinic.audit import audit
from clinic.mail import outgoing_email_queue
from clinic.models import AuditEvent, OutgoingEmail
from consultations.access import (
    RecordedRefusal,
    atomic_recording_refusals,
    staff_change_check,
)
from clinic.typed_text import NUL_REFUSED, typed_text_storable
from consultations.models import (
    Consultation,
    course_dates,
    PlannedProcedure,
    PlanQuestion,
    PlanShareLink,
    PlanStatusChange,
    TreatmentPlan,
)
from consultations.selectors import (
    course_check,
    flag_key,
    plan_checks,
    plan_review_needed,
    procedures_prefetched,
    treatment_day,
)
from treatments.models import ConditionWindow
from treatments.snapshot import catalogue_version


class PlanRuleError(Exception):
    """A plan change the rules refuse; the message says why, for the clinician."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.message = message
        self.field = field


ALLOWED_MOVES = {
    TreatmentPlan.Status.DRAFT: {TreatmentPlan.Status.SHARED, TreatmentPlan.Status.WITHDRAWN},
    TreatmentPlan.Status.SHARED: {TreatmentPlan.Status.ACCEPTED, TreatmentPlan.Status.DRAFT,
                                  TreatmentPlan.Status.WITHDRAWN},
    # Reopened to change it, or withdrawn: either needs a reason, which is recorded.
    TreatmentPlan.Status.ACCEPTED: {TreatmentPlan.Status.DRAFT, TreatmentPlan.Status.WITHDRAWN},
    TreatmentPlan.Status.WITHDRAWN: set(),
}
REASON_NEEDED_FROM = {TreatmentPlan.Status.ACCEPTED}
LIVE_STATES = (TreatmentPlan.Status.DRAFT, TreatmentPlan.Status.SHARED,
               TreatmentPlan.Status.ACCEPTED)


CHANGE_PLANS = "consultations.change_treatmentplan"


def _plan_change_check(*, user, plan, action):
    """Only the staff of the plan's clinic whose role changes plans may do this."""
    staff_change_check(user=user, patient=plan.consultation.patient, record=plan,
                       action=action, permission=CHANGE_PLANS)


def plan_moves(plan):
    """The states this plan may move to next, in a fixed order."""
    allowed = ALLOWED_MOVES.get(plan.status, set())
    return [status for status in TreatmentPlan.Status.values if status in allowed]


@atomic_recording_refusals
def plan_create(*, user, consultation):
    """Start a draft plan from a submitted intake, recording what it was built on."""
    staff_change_check(user=user, patient=consultation.patient, record=consultation,
                       action="create_plan", permission="consultations.add_treatmentplan")
    if consultation.status != Consultation.Status.SUBMITTED:
        raise PlanRuleError(_("Submit the intake before building a plan from it."))
    plan = TreatmentPlan.objects.create(
        consultation=consultation, created_by=user, intake_version=consultation.version,
        catalogue_version=catalogue_version(),
    )
    audit("create", plan, user=user, patient=consultation.patient)
    return plan


def _require_editable(plan):
    if not plan.is_editable:
        raise PlanRuleError(_("Only a draft plan can be changed. Move it back to draft first."))


def _checked_course(plan, treatment, first_date, sessions, interval_weeks):
    """The engine's check of the course on its session days (undated: from the first day
    it could be given); refused when the treatment is not bookable, is ruled out on any
    session day (naming the day when dated), or comes back sooner than its minimum
    interval."""
    start = treatment_day(plan.consultation)
    check = course_check(plan.consultation, treatment.code,
                         course_dates(first_date or start, sessions, interval_weeks))
    if check is None:
        raise PlanRuleError(_("%(name)s is not an active treatment in the catalogue.")
                            % {"name": treatment.name}, field="treatment")
    if check.sessions[0][1].referral:
        raise PlanRuleError(_("%(name)s is a referral to a specialist, not a procedure to "
                              "book here.") % {"name": treatment.name}, field="treatment")
    for day, result in check.refused:
        values = {"name": treatment.name, "day": day.isoformat(),
                  "flags": ", ".join(f.code for f in result.flags if f.severity == "absolute")}
        message = (_("%(name)s is ruled out for this patient on %(day)s (%(flags)s): it "
                     "cannot be planned then.") if first_date else
                   _("%(name)s is ruled out for this patient (%(flags)s): it cannot be "
                     "added to the plan.")) % values
        if result.suitable_from:
            message += " " + _("It becomes possible from %(day)s.") % {
                "day": result.suitable_from.isoformat()}
        raise PlanRuleError(message, field="first_date" if first_date else "treatment")
    if check.too_soon:
        length, unit = check.minimum_interval
        raise PlanRuleError(
            _("%(name)s must not be given again within %(length)d %(unit)s of the session "
              "before: space the sessions further apart.") % {
                "name": treatment.name, "length": length,
                "unit": dict(ConditionWindow.Unit.choices).get(unit, unit)},
            field="interval_weeks")
    return check


def caution_codes(flags):
    """The relative contraindications among the flags: what a justification answers."""
    return sorted({flag.code for flag in flags if flag.severity == "relative"})


def justification_problem(text):
    """Why a justification cannot be kept as written, or None: the same limits whether it
    is written when adding, editing or reviewing a procedure."""
    if not typed_text_storable(text):
        return str(NUL_REFUSED)
    limit = PlannedProcedure.JUSTIFICATION_MAX_LENGTH
    if len(text) > limit:
        return _("Keep the justification within %(limit)d characters (it has %(length)d).") % {
            "limit": limit, "length": len(text)}
    return None


def _justification_checked(text):
    problem = justification_problem(text)
    if problem:
        raise PlanRuleError(problem, field="justification")
    return text


@atomic_recording_refusals
def plan_procedure_add(*, user, plan, treatment, sessions=1, interval_weeks=None,
                       first_date=None, notes="", patient_note="", justification=""):
    """Add a procedure or aftercare product to a draft plan.

    Each session is checked on its own day (undated: the first day it could be given).
    Absolutely contraindicated on any of them: refused. Relatively contraindicated: refused
    unless the clinician writes why it is justified, which is stored with their name and
    the time. Refer-out options are not bookable and are refused too.
    """
    _plan_change_check(user=user, plan=plan, action="add_procedure")
    _require_editable(plan)
    check = _checked_course(plan, treatment, first_date, sessions, interval_weeks)
    cautions = caution_codes(check.flags)
    justification = _justification_checked((justification or "").strip())
    if cautions and not justification:
        raise PlanRuleError(_("Write why these cautions are acceptable for this patient: "
                              "%(flags)s.") % {"flags": ", ".join(cautions)},
                            field="justification")
    if plan.procedures.filter(treatment=treatment).exists():
        raise PlanRuleError(_("%(name)s is already in this plan.") % {"name": treatment.name},
                            field="treatment")
    audit("add_procedure", plan, user=user, patient=plan.consultation.patient)
    return PlannedProcedure.objects.create(
        plan=plan, treatment=treatment, sessions=sessions, interval_weeks=interval_weeks,
        first_date=first_date, notes=notes, patient_note=patient_note,
        justification=justification if cautions else "",
        justified_by=user if cautions else None,
        justified_at=timezone.now() if cautions else None,
        reviewed_flags=sorted(flag_key(flag) for flag in check.flags),
        position=plan.procedures.count(),
    )


@atomic_recording_refusals
def plan_procedure_reschedule(*, user, plan, procedure, sessions=1, interval_weeks=None,
                              first_date=None, notes=None, patient_note=None,
                              justification=""):
    """Change a planned procedure's sessions or dates; the new dates are checked as when it
    was added. A session moved into an absolute window is refused with the day it becomes
    possible; a caution not reviewed before needs a justification written for it (the
    earlier one, unchanged, is refused)."""
    _plan_change_check(user=user, plan=plan, action="reschedule_procedure")
    _require_editable(plan)
    if procedure.plan_id != plan.pk:
        raise PlanRuleError(_("That procedure is not in this plan."))
    check = _checked_course(plan, procedure.treatment, first_date, sessions, interval_weeks)
    reviewed = [list(item) for item in procedure.reviewed_flags]
    new_cautions = caution_codes(f for f in check.flags if flag_key(f) not in reviewed)
    text = _justification_checked((justification or "").strip())
    if new_cautions and not text:
        raise PlanRuleError(_("Write why the new cautions are acceptable for this patient: "
                              "%(flags)s.") % {"flags": ", ".join(new_cautions)},
                            field="justification")
    if new_cautions and text == procedure.justification.strip():
        raise PlanRuleError(_("The earlier justification was written before %(flags)s: write "
                              "one that answers it.") % {"flags": ", ".join(new_cautions)},
                            field="justification")
    if not caution_codes(check.flags):
        # Only a caution is justified: without one, a text sent along is not kept.
        procedure.justification, procedure.justified_by, procedure.justified_at = "", None, None
    elif text:
        procedure.justification, procedure.justified_by, procedure.justified_at = (
            text, user, timezone.now())
    procedure.sessions, procedure.interval_weeks, procedure.first_date = (
        sessions, interval_weeks, first_date)
    if notes is not None:
        procedure.notes = notes
    if patient_note is not None:
        procedure.patient_note = patient_note
    procedure.reviewed_flags = sorted(flag_key(flag) for flag in check.flags)
    procedure.save()
    audit("reschedule_procedure", plan, user=user,
          patient=plan.consultation.patient)
    return procedure


@atomic_recording_refusals
def plan_procedure_remove(*, user, plan, procedure):
    _plan_change_check(user=user, plan=plan, action="remove_procedure")
    _require_editable(plan)
    if procedure.plan_id != plan.pk:
        raise PlanRuleError(_("That procedure is not in this plan."))
    procedure.delete()
    audit("remove_procedure", plan, user=user, patient=plan.consultation.patient)


def plan_reason_needed(plan, to):
    return plan.status in REASON_NEEDED_FROM or to == TreatmentPlan.Status.WITHDRAWN and \
        plan.status != TreatmentPlan.Status.DRAFT


@atomic_recording_refusals
def plan_status_change(*, user, plan, to, reason=""):
    """Move a plan along draft -> shared -> accepted, back to draft, or withdraw it.

    An accepted plan can be reopened (back to draft: the patient's page says the clinic is
    updating it) or withdrawn; either needs a reason, as does withdrawing a shared plan.
    Every move is recorded with who made it and why.
    """
    _plan_change_check(user=user, plan=plan, action="status_change")
    if to not in ALLOWED_MOVES.get(plan.status, set()):
        raise PlanRuleError(_("A %(current)s plan cannot become %(target)s.") % {
            "current": plan.get_status_display().lower(),
            "target": dict(TreatmentPlan.Status.choices).get(to, to).lower()})
    reason = (reason or "").strip()
    if not typed_text_storable(reason):
        raise PlanRuleError(str(NUL_REFUSED), field="reason")
    if plan_reason_needed(plan, to) and not reason:
        raise PlanRuleError(_("Give the reason: it is recorded with the plan."), field="reason")
    if to == TreatmentPlan.Status.SHARED:
        if not plan.procedures.exists():
            raise PlanRuleError(_("Add at least one procedure before sharing the plan."))
        checks = plan_checks(plan)
        if plan_review_needed(plan, checks):
            raise PlanRuleError(_("Review the new flags before sharing the plan."))
        if any(check and check.too_soon for check in checks.values()):
            raise PlanRuleError(_("Some sessions come sooner than their treatment's minimum "
                                  "interval: space them further apart before sharing."))
    now = timezone.now()
    moved_from = plan.status
    plan.status = to
    stamp = {TreatmentPlan.Status.SHARED: "shared_at", TreatmentPlan.Status.ACCEPTED:
             "accepted_at", TreatmentPlan.Status.WITHDRAWN: "withdrawn_at"}.get(to)
    if stamp:
        setattr(plan, stamp, now)
    if to == TreatmentPlan.Status.ACCEPTED:
        plan.accepted_by = user
    reopened = moved_from == TreatmentPlan.Status.ACCEPTED and to == TreatmentPlan.Status.DRAFT
    plan.reopened_at = now if reopened else (None if to == TreatmentPlan.Status.SHARED
                                             else plan.reopened_at)
    if to == TreatmentPlan.Status.WITHDRAWN or (to == TreatmentPlan.Status.DRAFT
                                                and not reopened):
        # A plan taken back before the patient accepted it, or withdrawn, is no longer
        # theirs to open; a reopened one stays reachable, to say it is being updated.
        plan.links.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_by=user)
    plan.save()
    PlanStatusChange.objects.create(plan=plan, from_status=moved_from, to_status=to,
                                    reason=reason, changed_by=user, changed_at=now)
    audit(f"status_{to}", plan, user=user, patient=plan.consultation.patient)
    return plan


@atomic_recording_refusals
def plan_review(*, user, plan, justifications):
    """A clinician re-reviews a plan after the intake, the catalogue or the day changed.

    Every procedure's current flags (over all its sessions) become its reviewed flags. A
    procedure now ruled out on a session day must be moved or removed first; one with a new
    caution needs a justification written for it (`justifications` maps a procedure id to
    the text; the earlier text, unchanged, is refused).
    """
    _plan_change_check(user=user, plan=plan, action="review")
    if plan.status not in LIVE_STATES:
        raise PlanRuleError(_("A withdrawn plan cannot be reviewed."))
    checks = plan_checks(plan)
    pending = plan_review_needed(plan, checks)
    now = timezone.now()
    errors = {}
    procedures = list(plan.procedures.all())
    for procedure in procedures:
        check = checks.get(procedure.pk)
        name = procedure.treatment.name
        if check is None:
            errors[procedure.pk] = _("%(name)s is no longer in the active catalogue: remove it "
                                     "from the plan.") % {"name": name}
            continue
        if check.refused:
            errors[procedure.pk] = (
                _("%(name)s is now ruled out for this patient on %(days)s: move its dates or "
                  "remove it from the plan.") % {"name": name, "days": ", ".join(
                      day.isoformat() for day, _result in check.refused)}
                if procedure.first_date else
                _("%(name)s is now ruled out for this patient: remove it from the plan.")
                % {"name": name})
            continue
        text = (justifications.get(procedure.pk) or "").strip()
        if not caution_codes(check.flags):
            text = ""  # only a caution is justified: a text sent for none is not kept
        problem = justification_problem(text)
        if problem:
            errors[procedure.pk] = problem
            continue
        new_cautions = caution_codes(pending.get(procedure.pk, []))
        if new_cautions and not text:
            errors[procedure.pk] = _("Justify the new cautions: %(flags)s.") % {
                "flags": ", ".join(new_cautions)}
            continue
        if new_cautions and text == procedure.justification.strip():
            errors[procedure.pk] = _("The earlier justification was written before %(flags)s: "
                                     "write one that answers it.") % {
                "flags": ", ".join(new_cautions)}
            continue
        if text:
            procedure.justification, procedure.justified_by, procedure.justified_at = (
                text, user, now)
        procedure.reviewed_flags = sorted(flag_key(flag) for flag in check.flags)
    if errors:
        raise PlanReviewError(errors)
    for procedure in procedures:
        procedure.save()
    plan.reviewed_by, plan.reviewed_at, plan.needs_review_since = user, now, None
    plan.intake_version = plan.consultation.version
    plan.catalogue_version = catalogue_version()
    plan.save()
    audit("review", plan, user=user, patient=plan.consultation.patient)
    return plan


def plan_recheck(*, plan, checks=None):
    """Check a plan against the current intake, catalogue and day, and keep its 'needs
    review' mark in step, whatever its state: set when a planned procedure has a flag
    nobody has reviewed, cleared when none has. Returns what is pending (procedure id ->
    its new flags)."""
    if plan.status not in LIVE_STATES:
        return {}
    pending = plan_review_needed(plan, checks if checks is not None else plan_checks(plan))
    if bool(pending) != (plan.needs_review_since is not None):
        plan.needs_review_since = timezone.now() if pending else None
        TreatmentPlan.objects.filter(pk=plan.pk).update(
            needs_review_since=plan.needs_review_since)
        audit("needs_review" if pending else "review_settled", plan,
              patient=plan.consultation.patient, actor_label="plan check")
    return pending


def plans_recheck(plans=None):
    """Re-check every live plan (or those given): after a catalogue change, and each day
    for what changes with the date. Returns how many need review."""
    if plans is None:
        plans = (TreatmentPlan.objects.filter(status__in=LIVE_STATES)
                 .select_related("consultation__patient")
                 .prefetch_related(procedures_prefetched("procedures")).iterator(chunk_size=200))
    return sum(1 for plan in plans if plan_recheck(plan=plan))


class PlanReviewError(PlanRuleError):
    def __init__(self, errors):
        super().__init__(_("Some procedures need attention before the review can be saved."))
        self.errors = errors


# -- The patient's link ---------------------------------------------------------------------

def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@atomic_recording_refusals
def plan_share(*, user, plan, link_url, email=False):
    """Share a plan with its patient: the plan becomes shared, earlier links stop working,
    and a new personal link is made. Returns (link, token); only the token's hash is kept,
    so the link is shown to the clinician once (and emailed if asked: the email is kept with
    the share and sent, in the patient's language, once the share is saved; see clinic.mail).

    `link_url` turns the token into the full address (the view knows the host).
    """
    _plan_change_check(user=user, plan=plan, action="share")
    if plan.status == TreatmentPlan.Status.DRAFT:
        plan_status_change(user=user, plan=plan, to=TreatmentPlan.Status.SHARED)
    elif plan.status != TreatmentPlan.Status.SHARED:
        raise PlanRuleError(_("Only a draft or shared plan can be shared."))
    now = timezone.now()
    plan.links.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_by=user)
    token = secrets.token_urlsafe(32)  # 256 bits
    patient = plan.consultation.patient
    link = PlanShareLink.objects.create(
        plan=plan, token_hash=token_hash(token), created_by=user,
        expires_at=now + datetime.timedelta(days=settings.PLAN_LINK_DAYS),
    )
    if email:
        if not patient.email:
            raise PlanRuleError(_("This patient has no email address: copy the link instead."))
        clinic = patient.clinic
        language = clinic.page_language(patient.preferred_language)
        with translation.override(language):
            outgoing_email_queue(
                kind=OutgoingEmail.Kind.PLAN_LINK, clinic=clinic, recipient=patient.email,
                language=language,
                subject=_("Your treatment plan from %(clinic)s") % {"clinic": clinic.name},
                body=_(
                    "Your clinic has shared your treatment plan with you.\n\n"
                    "Open it here: %(url)s\n\n"
                    "You will be asked for your date of birth. The link works for %(days)d "
                    "days."
                ) % {"url": link_url(token), "days": settings.PLAN_LINK_DAYS})
        link.emailed_to = patient.email
        link.save(update_fields=["emailed_to"])
    audit("share", plan, user=user, patient=patient)
    return link, token


@atomic_recording_refusals
def plan_share_link_revoke(*, user, link):
    _plan_change_check(user=user, plan=link.plan, action="revoke_link")
    if link.revoked_at is None:
        link.revoked_at, link.revoked_by = timezone.now(), user
        link.save(update_fields=["revoked_at", "revoked_by"])
        audit("revoke_link", link.plan, user=user,
              patient=link.plan.consultation.patient)
    return link


class DateOfBirthCheck:
    ACCEPTED = "accepted"
    WRONG = "wrong"
    WAIT = "wait"
    # Refused whatever the answer: the link's state, or a plan the patient no longer sees.
    LOCKED = "locked"
    REVOKED = "revoked"
    EXPIRED = "expired"
    CLOSED = "closed"


# The states in which the patient's link shows their plan.
PATIENT_VISIBLE_STATES = (TreatmentPlan.Status.SHARED, TreatmentPlan.Status.ACCEPTED)


def link_actor(link):
    """How the audit trail names a patient acting from their link."""
    return f"patient link #{link.pk}"


class LinkRefused(RecordedRefusal, PlanRuleError):
    """The patient's link cannot be used for this now; the message says why, for them."""


def patient_link_check(link, *, action, refusal=LinkRefused, now=None):
    """The link as it stands now (read again and locked), refused with `refusal` (and
    recorded) when it is revoked, expired or locked, or when nobody has confirmed the
    patient's date of birth on it within the visit (PLAN_LINK_VISIT_MINUTES)."""
    link = (PlanShareLink.objects.select_for_update(of=("self",))
            .select_related("plan__consultation__patient__clinic").get(pk=link.pk))
    now = now or timezone.now()
    state = link.state(now)
    if state == "active":
        visit = datetime.timedelta(minutes=settings.PLAN_LINK_VISIT_MINUTES)
        if link.last_opened_at is None or now - link.last_opened_at >= visit:
            state = "unverified"
    if state == "active":
        return link
    message = {
        "revoked": _("This link has been replaced or withdrawn by the clinic."),
        "expired": _("This link has expired."),
        "locked": _("This link is locked because the date of birth was entered wrongly too "
                    "many times."),
        "unverified": _("Please confirm your date of birth first."),
    }[state]
    raise refusal(message, entry={"action": action, "record": link.plan,
                                  "patient": link.plan.consultation.patient,
                                  "actor_label": link_actor(link)})


@transaction.atomic
def plan_link_check_date_of_birth(*, link, date_of_birth):
    """The patient proves who they are with their date of birth.

    A wrong answer counts against the link, which locks after PLAN_LINK_MAX_ATTEMPTS; after
    each wrong answer the next try must wait (doubling each time). A revoked, expired or
    locked link, or one whose plan the patient can no longer open, is refused whatever the
    answer, as is a try during the wait; every refusal is recorded. Returns the outcome
    and, for a wait, the seconds left.
    """
    link = (PlanShareLink.objects.select_for_update(of=("self",))
            .select_related("plan__consultation__patient").get(pk=link.pk))
    now = timezone.now()
    patient = link.plan.consultation.patient
    who = link_actor(link)
    state = link.state(now)
    if state == "active" and link.plan.status not in PATIENT_VISIBLE_STATES:
        state = DateOfBirthCheck.CLOSED
    waiting = link.next_attempt_at and link.next_attempt_at > now
    if state != "active" or waiting:
        audit("verify", link.plan, patient=patient, actor_label=who,
              outcome=AuditEvent.Outcome.DENIED)
        if state != "active":
            return state, 0
        return DateOfBirthCheck.WAIT, math.ceil((link.next_attempt_at - now).total_seconds())
    if date_of_birth == patient.date_of_birth:
        link.failed_attempts, link.next_attempt_at, link.last_opened_at = 0, None, now
        link.save(update_fields=["failed_attempts", "next_attempt_at", "last_opened_at"])
        audit("verify", link.plan, patient=patient, actor_label=who)
        return DateOfBirthCheck.ACCEPTED, 0
    link.failed_attempts += 1
    if link.failed_attempts >= settings.PLAN_LINK_MAX_ATTEMPTS:
        link.locked_at = now
    else:
        delay = settings.PLAN_LINK_RETRY_SECONDS * 2 ** (link.failed_attempts - 1)
        link.next_attempt_at = now + datetime.timedelta(seconds=delay)
    link.save(update_fields=["failed_attempts", "locked_at", "next_attempt_at"])
    audit("verify", link.plan, patient=patient, actor_label=who,
          outcome=AuditEvent.Outcome.DENIED)
    return (DateOfBirthCheck.LOCKED if link.locked_at else DateOfBirthCheck.WRONG), 0


@atomic_recording_refusals
def plan_accept_by_patient(*, link):
    """The patient accepts their shared plan from their link, once they have confirmed
    their date of birth on it; not from a revoked, expired or locked link, and not while
    the clinic has a planned procedure to review."""
    link = patient_link_check(link, action="accept")
    plan = TreatmentPlan.objects.select_for_update().get(pk=link.plan_id)
    if plan.status == TreatmentPlan.Status.ACCEPTED:
        return plan
    if plan.status != TreatmentPlan.Status.SHARED:
        raise PlanRuleError(_("This plan cannot be accepted now. Please contact the clinic."))
    if plan_recheck(plan=plan):
        raise PlanRuleError(_("Your clinic is reviewing this plan, so it cannot be accepted "
                              "yet. They will contact you."))
    now = timezone.now()
    plan.status, plan.accepted_at, plan.accepted_by = (TreatmentPlan.Status.ACCEPTED, now,
                                                       None)
    plan.save(update_fields=["status", "accepted_at", "accepted_by", "updated_at"])
    PlanStatusChange.objects.create(plan=plan, from_status=TreatmentPlan.Status.SHARED,
                                    to_status=TreatmentPlan.Status.ACCEPTED, changed_at=now)
    audit("accept", plan, patient=plan.consultation.patient, actor_label=link_actor(link))
    return plan


@atomic_recording_refusals
def plan_question_ask(*, link, message):
    """The patient asks the clinic about their plan from their link, once they have
    confirmed their date of birth on it, while the plan is theirs to see (shared or
    accepted). The question is stored whatever the mail server does; the
    clinic's notice (no health data) leaves once it is saved."""
    link = patient_link_check(link, action="question")
    if link.plan.status not in PATIENT_VISIBLE_STATES:
        raise PlanRuleError(_("This plan cannot take questions now. Please contact the "
                              "clinic."), field="message")
    message = (message or "").strip()
    if not message:
        raise PlanRuleError(_("Write your question first."), field="message")
    if not typed_text_storable(message):
        raise PlanRuleError(str(NUL_REFUSED), field="message")
    question = PlanQuestion.objects.create(plan=link.plan, message=message[:4000])
    audit("question", link.plan, patient=link.plan.consultation.patient,
          actor_label=link_actor(link))
    clinic = link.plan.consultation.patient.clinic
    if clinic.email:
        with translation.override(clinic.locale):
            outgoing_email_queue(
                kind=OutgoingEmail.Kind.QUESTION_NOTICE, clinic=clinic, recipient=clinic.email,
                language=clinic.locale,
                subject=_("A patient sent a question about plan #%(plan)d") % {
                    "plan": link.plan_id},
                body=_("A patient asked a question about treatment plan #%(plan)d. Sign in "
                       "to read it on the plan's page.") % {"plan": link.plan_id})
    return question


@atomic_recording_refusals
def plan_question_answer(*, user, question, answer):
    """A clinician answers a patient's question: the answer shows on the patient's page,
    and the patient is emailed a notice in their language that holds no health data."""
    question = PlanQuestion.objects.select_for_update(of=("self",)).select_related(
        "plan__consultation__patient__clinic").get(pk=question.pk)
    _plan_change_check(user=user, plan=question.plan, action="answer_question")
    answer = (answer or "").strip()
    if not answer:
        raise PlanRuleError(_("Write the answer first."), field="answer")
    if not typed_text_storable(answer):
        raise PlanRuleError(str(NUL_REFUSED), field="answer")
    question = PlanQuestion.objects.select_for_update().select_related(
        "plan__consultation__patient__clinic").get(pk=question.pk)
    if question.answered_at is not None:
        raise PlanRuleError(_("This question has already been answered."), field="answer")
    question.answer, question.answered_by, question.answered_at = (
        answer[:4000], user, timezone.now())
    question.save(update_fields=["answer", "answered_by", "answered_at"])
    plan = question.plan
    patient = plan.consultation.patient
    audit("answer_question", plan, user=user, patient=patient)
    if patient.email:
        clinic = patient.clinic
        language = clinic.page_language(patient.preferred_language)
        with translation.override(language):
            outgoing_email_queue(
                kind=OutgoingEmail.Kind.ANSWER_NOTICE, clinic=clinic, recipient=patient.email,
                language=language,
                subject=_("%(clinic)s has answered your question") % {"clinic": clinic.name},
                body=_("Your clinic has answered the question you sent about your "
                       "treatment plan. Open your plan from the link the clinic gave you "
                       "to read the answer.\n\n%(clinic)s") % {"clinic": clinic.name})
    return question


@atomic_recording_refusals
def plan_acceptance_acknowledge(*, user, plan):
    """A clinician has seen that the patient accepted their plan: it leaves the inbox."""
    _plan_change_check(user=user, plan=plan, action="acceptance_seen")
    if plan.status != TreatmentPlan.Status.ACCEPTED or plan.acceptance_seen_at is not None:
        return plan
    plan.acceptance_seen_at = timezone.now()
    TreatmentPlan.objects.filter(pk=plan.pk).update(acceptance_seen_at=plan.acceptance_seen_at)
    audit("acceptance_seen", plan, user=user, patient=plan.consultation.patient)
    return plan
