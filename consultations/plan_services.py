"""Writes to treatment plans. The contraindication rules are enforced here, so no page or
command can put an excluded procedure into a plan or a caution in without a justification."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consultations.models import Consultation, PlannedProcedure, TreatmentPlan
from consultations.selectors import consultation_recommendation, flag_key, plan_review_needed
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
    TreatmentPlan.Status.ACCEPTED: set(),
    TreatmentPlan.Status.WITHDRAWN: set(),
}


@transaction.atomic
def plan_create(*, user, consultation):
    """Start a draft plan from a submitted intake, recording what it was built on."""
    if consultation.status != Consultation.Status.SUBMITTED:
        raise PlanRuleError(_("Submit the intake before building a plan from it."))
    return TreatmentPlan.objects.create(
        consultation=consultation, created_by=user, intake_version=consultation.version,
        catalogue_version=catalogue_version(),
    )


def _treatment_result(plan, treatment):
    recommendation = consultation_recommendation(plan.consultation)
    for result in recommendation.treatments:
        if result.code == treatment.code:
            return result
    raise PlanRuleError(_("%(name)s is not an active treatment in the catalogue.")
                        % {"name": treatment.name}, field="treatment")


def _require_editable(plan):
    if not plan.is_editable:
        raise PlanRuleError(_("Only a draft plan can be changed. Move it back to draft first."))


@transaction.atomic
def plan_procedure_add(*, user, plan, treatment, sessions=1, interval_weeks=None,
                       first_date=None, notes="", justification=""):
    """Add a procedure or aftercare product to a draft plan.

    Absolutely contraindicated: refused. Relatively contraindicated: refused unless the
    clinician writes why it is justified, which is stored with their name and the time.
    Refer-out options are not bookable and are refused too.
    """
    _require_editable(plan)
    result = _treatment_result(plan, treatment)
    if result.referral:
        raise PlanRuleError(_("%(name)s is a referral to a specialist, not a procedure to "
                              "book here.") % {"name": treatment.name}, field="treatment")
    if result.excluded:
        absolute = [f.code for f in result.flags if f.severity == "absolute"]
        raise PlanRuleError(_("%(name)s is ruled out for this patient (%(flags)s): it cannot "
                              "be added to the plan.") % {"name": treatment.name,
                                                           "flags": ", ".join(absolute)},
                            field="treatment")
    justification = (justification or "").strip()
    if result.cautions and not justification:
        raise PlanRuleError(_("Write why these cautions are acceptable for this patient: %(flags)s.")
                            % {"flags": ", ".join(f.code for f in result.cautions)},
                            field="justification")
    if plan.procedures.filter(treatment=treatment).exists():
        raise PlanRuleError(_("%(name)s is already in this plan.") % {"name": treatment.name},
                            field="treatment")
    now = timezone.now()
    return PlannedProcedure.objects.create(
        plan=plan, treatment=treatment, sessions=sessions, interval_weeks=interval_weeks,
        first_date=first_date, notes=notes,
        justification=justification if result.cautions else "",
        justified_by=user if result.cautions else None,
        justified_at=now if result.cautions else None,
        reviewed_flags=[flag_key(flag) for flag in result.flags],
        position=plan.procedures.count(),
    )


@transaction.atomic
def plan_procedure_remove(*, user, plan, procedure):
    _require_editable(plan)
    if procedure.plan_id != plan.pk:
        raise PlanRuleError(_("That procedure is not in this plan."))
    procedure.delete()


@transaction.atomic
def plan_status_change(*, user, plan, to):
    """Move a plan along draft -> shared -> accepted, back to draft, or withdraw it."""
    if to not in ALLOWED_MOVES.get(plan.status, set()):
        raise PlanRuleError(_("A %(current)s plan cannot become %(target)s.") % {
            "current": plan.get_status_display().lower(),
            "target": dict(TreatmentPlan.Status.choices).get(to, to).lower()})
    if to == TreatmentPlan.Status.SHARED:
        if not plan.procedures.exists():
            raise PlanRuleError(_("Add at least one procedure before sharing the plan."))
        if plan_review_needed(plan, consultation_recommendation(plan.consultation)):
            raise PlanRuleError(_("Review the new flags before sharing the plan."))
    now = timezone.now()
    plan.status = to
    stamp = {TreatmentPlan.Status.SHARED: "shared_at", TreatmentPlan.Status.ACCEPTED:
             "accepted_at", TreatmentPlan.Status.WITHDRAWN: "withdrawn_at"}.get(to)
    if stamp:
        setattr(plan, stamp, now)
    plan.save()
    return plan


@transaction.atomic
def plan_review(*, user, plan, justifications):
    """A clinician re-reviews a plan after the intake or catalogue changed.

    Every procedure's current flags become its reviewed flags. A procedure now ruled out
    must be removed first; one with a new caution needs a new justification
    (`justifications` maps a procedure id to the text).
    """
    if not plan.is_open:
        raise PlanRuleError(_("A closed plan cannot be reviewed."))
    recommendation = consultation_recommendation(plan.consultation)
    results = {result.code: result for result in recommendation.treatments}
    pending = plan_review_needed(plan, recommendation)
    now = timezone.now()
    errors = {}
    procedures = list(plan.procedures.all())
    for procedure in procedures:
        result = results.get(procedure.treatment.code)
        if result is None or result.excluded:
            errors[procedure.pk] = _("%(name)s is now ruled out for this patient: remove it from "
                                     "the plan.") % {"name": procedure.treatment.name}
            continue
        text = (justifications.get(procedure.pk) or "").strip()
        new_cautions = [f for f in pending.get(procedure.pk, []) if f.severity == "relative"]
        if new_cautions and not text:
            errors[procedure.pk] = _("Justify the new cautions: %(flags)s.") % {
                "flags": ", ".join(f.code for f in new_cautions)}
            continue
        if text:
            procedure.justification, procedure.justified_by, procedure.justified_at = (
                text, user, now)
        procedure.reviewed_flags = [flag_key(flag) for flag in result.flags]
    if errors:
        raise PlanReviewError(errors)
    for procedure in procedures:
        procedure.save()
    plan.reviewed_by, plan.reviewed_at = user, now
    plan.intake_version = plan.consultation.version
    plan.catalogue_version = catalogue_version()
    plan.save()
    return plan


class PlanReviewError(PlanRuleError):
    def __init__(self, errors):
        super().__init__(_("Some procedures need attention before the review can be saved."))
        self.errors = errors
