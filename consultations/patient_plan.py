"""What a patient reads on their plan page (and in its PDF): the plan in plain words, in
their language, from the plan, the current recommendation and the catalogue's
patient-facing text. Built in a constant number of queries, and on the page kept once
rendered (clinic.fragments) until the plan, the intake, the catalogue or the language
changes."""

from dataclasses import dataclass, field

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from clinic.fragments import cached_fragment
from consultations.selectors import (
    consultation_recommendation,
    consultation_with_answers,
    planned_procedures,
)
from treatments.catalogue_state import catalogue_token
from treatments.engine import PHOTOTYPE_FLAG
from treatments.models import (
    AftercareStep,
    Concern,
    Condition,
    PreTreatmentRequirement,
    Requirement,
    TreatmentConsent,
)
from treatments.translations import translator


@dataclass
class TimelineEntry:
    when: str
    sort_key: tuple
    items: list = field(default_factory=list)  # (treatment name, text)


def day_label(step):
    if step.period == AftercareStep.Period.DAILY:
        return _("Every day while you use it")
    if step.period == AftercareStep.Period.LATER:
        return _("At any later appointment")
    if step.period == AftercareStep.Period.ONGOING:
        return (_("From the day of treatment onwards") if step.start_day == 0
                else _("From day %(day)d onwards") % {"day": step.start_day})
    if step.start_day == step.end_day:
        return (_("The day of treatment") if step.start_day == 0
                else _("Day %(day)d") % {"day": step.start_day})
    return _("Days %(start)d to %(end)d") % {"start": step.start_day, "end": step.end_day}


def day_sort_key(step):
    order = {"daily": 0, "days": 1, "ongoing": 1, "later": 3}[step.period]
    return (order, step.start_day or 0, step.end_day if step.end_day is not None else 9999)


def merged_timeline(steps_by_treatment, translate):
    """One timeline for all planned treatments: steps with the same days share a row, rows
    run from the treatment day onwards. Each item names the treatment it belongs to."""
    rows = {}
    for name, steps in steps_by_treatment:
        for step in steps:
            key = day_sort_key(step)
            row = rows.setdefault(key, TimelineEntry(when=day_label(step), sort_key=key))
            row.items.append((name, translate(step, "patient_text")))
    return [rows[key] for key in sorted(rows)]


def consent_sections(consent, translate):
    """The consent text, part by part, with its headings, in the page's language."""
    return consent.sections(translate) if consent is not None else []


def first_name(patient):
    return patient.full_name.split()[0]


def patient_plan_page(plan, language, on_hold=frozenset()):
    """Everything the patient's page and PDF show; procedures in `on_hold` (ids of planned
    procedures the clinic must review) are marked as on hold."""
    consultation = consultation_with_answers(plan.consultation)
    recommendation = consultation_recommendation(consultation)
    results = {result.code: result for result in recommendation.treatments}
    procedures = list(planned_procedures().filter(plan=plan))
    treatments = [p.treatment for p in procedures]

    concern_codes = {c for r in results.values() for c, *_rest in r.matched_concerns}
    concerns = Concern.objects.in_bulk(list(concern_codes), field_name="code")
    condition_codes = {code for p in procedures for code, _severity in p.reviewed_flags}
    conditions = Condition.objects.in_bulk(list(condition_codes), field_name="code")
    step_keys = {step.key for p in procedures if p.treatment.code in results
                 for step in results[p.treatment.code].requirements}
    steps = PreTreatmentRequirement.objects.in_bulk([int(k) for k in step_keys if k])
    requirements = Requirement.objects.in_bulk(
        list({step.code for p in procedures if p.treatment.code in results
              for step in results[p.treatment.code].requirements}), field_name="code")
    consents = {consent.treatment_id: consent
                for consent in TreatmentConsent.objects.filter(treatment__in=treatments)}
    aftercare = {}
    for step in AftercareStep.objects.filter(treatment__in=treatments).order_by("position"):
        aftercare.setdefault(step.treatment_id, []).append(step)

    translate = translator(language, [*treatments, *concerns.values(), *conditions.values(),
                                      *steps.values(), *requirements.values(),
                                      *consents.values(),
                                      *(s for group in aftercare.values() for s in group)])

    items, before, cautions = [], {}, []
    for procedure in procedures:
        treatment = procedure.treatment
        name = translate(treatment, "name")
        result = results.get(treatment.code)
        matched = [concerns[c] for c, *_rest in (result.matched_concerns if result else ())
                   if c in concerns]
        items.append({
            "procedure": procedure,
            "name": name,
            "description": translate(treatment, "patient_description"),
            "why": [translate(concern, "patient_label") for concern in matched],
            "is_product": treatment.category.is_product,
            "on_hold": procedure.pk in on_hold,
            "downtime": (treatment.downtime_min_days, treatment.downtime_max_days),
            "consent": consent_sections(consents.get(treatment.pk), translate),
        })
        for step in result.requirements if result else ():
            requirement = requirements.get(step.code)
            entry = before.setdefault(step.code, {
                # The catalogue's label is the clinician's; patients read their own wording.
                "label": ((translate(requirement, "patient_label")
                           or translate(requirement, "label")) if requirement else step.label),
                "explanation": (translate(requirement, "patient_explanation")
                                if requirement else ""),
                "strength": step.strength,
                "items": [],
            })
            catalogue_step = steps.get(int(step.key)) if step.key else None
            # The clinical timing is written for clinicians; patients read their own wording.
            timing = translate(catalogue_step, "patient_timing") if catalogue_step else ""
            entry["items"].append((name, timing))
        if procedure.justification:
            reasons = []
            for code, severity in procedure.reviewed_flags:
                if severity != "relative":
                    continue
                if code == PHOTOTYPE_FLAG:
                    reasons.append(_("Your skin type needs gentler settings with this treatment."))
                elif code in conditions:
                    reasons.append(translate(conditions[code], "question"))
            # The justification is the clinician's reasoning, for the record: the patient
            # reads what the caution is about, in the catalogue's words for patients.
            cautions.append({"name": name, "reasons": reasons})
    timeline = merged_timeline(
        [(translate(p.treatment, "name"), aftercare.get(p.treatment_id, []))
         for p in procedures], translate)
    return {
        "plan": plan,
        "clinic": consultation.patient.clinic,
        "patient": consultation.patient,
        "first_name": first_name(consultation.patient),
        "procedures": [item for item in items if not item["is_product"]],
        "products": [item for item in items if item["is_product"]],
        "before": sorted(before.values(), key=lambda entry: entry["strength"] != "required"),
        "timeline": timeline,
        "cautions": cautions,
        "under_review": bool(on_hold),
    }


def patient_plan_body(plan, language, on_hold=frozenset()):
    """The rendered plan (the part of the page shared with the PDF), for a plan read with its
    consultation, patient and clinic (`plan_for_link`). A change to its procedures moves
    the plan's updated_at (PlannedProcedure.save)."""
    consultation = plan.consultation
    built_from = (plan.pk, plan.status, plan.updated_at, consultation.version,
                  consultation.updated_at, consultation.patient.clinic.phone, catalogue_token(),
                  language, tuple(sorted(on_hold)))
    return cached_fragment(
        "patient-plan", built_from,
        lambda: render_to_string("patients/_plan_body.html",
                                 patient_plan_page(plan, language, on_hold)))
