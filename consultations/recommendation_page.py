"""The body of the recommendation page: the engine's findings for one intake against the
current catalogue, with every flag's trigger, rationale and evidence.

Working it out reads the answers and much of the catalogue and renders a long page, so the
rendered body is kept (clinic.fragments) and served again until the intake, the catalogue,
the language or the open draft plan changes; the result is always the one a fresh
computation would give.
"""

from django.template.loader import render_to_string
from django.utils.translation import get_language

from clinic.fragments import cached_fragment
from consultations.selectors import consultation_recommendation, consultation_with_answers
from treatments.catalogue_state import catalogue_token
from treatments.selectors import catalogue_labels, sources_by_key, treatment_index


def recommendation_context(consultation):
    open_plan_id = consultation.open_plan_id
    consultation = consultation_with_answers(consultation)
    recommendation = consultation_recommendation(consultation)
    source_keys = {key for result in recommendation.treatments
                   for flag in result.flags for key in flag.sources}
    patient_concerns = {item.concern.code for item in consultation.concerns.all()}
    return {
        "consultation": consultation,
        "recommendation": recommendation,
        "treatments": treatment_index(result.code for result in recommendation.treatments),
        "labels": catalogue_labels(),
        "sources": sources_by_key(source_keys),
        "not_indicated": [(result, concern, reason) for result in recommendation.treatments
                          for concern, reason in result.not_indicated_for
                          if concern in patient_concerns],
        "open_plan_id": open_plan_id,
    }


def recommendation_section(consultation):
    """The rendered findings for `consultation` (as read by `consultation_summary_get`), the
    same for every clinician of its clinic, with "add to plan" links into its open draft
    plan when there is one."""
    built_from = (consultation.pk, consultation.version, consultation.updated_at,
                  consultation.status, consultation.open_plan_id, catalogue_token(),
                  get_language())
    return cached_fragment(
        "recommendations", built_from,
        lambda: render_to_string("consultations/_recommendations_body.html",
                                 recommendation_context(consultation)))
