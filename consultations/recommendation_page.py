"""The body of the recommendation page: the engine's findings for one intake against the
current catalogue, with every flag's trigger, rationale and evidence.

Working it out reads the answers and much of the catalogue and renders a long page, so the
rendered body is kept (clinic.fragments) and served again until the intake, the catalogue,
the language or the open draft plan changes; the result is always the one a fresh
computation would give.
"""

from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext, ngettext

from clinic.fragments import cached_fragment
from consultations.models import ConsultationConcern
from consultations.selectors import consultation_recommendation, consultation_with_answers
from treatments import engine
from treatments.catalogue_state import catalogue_token
from treatments.models import DepthLevel, Indication, PihRisk
from treatments.selectors import catalogue_labels, sources_by_key, treatment_index


def score_figure(value):
    """A score's figure as the page prints it: 2, 0.5, -0.5."""
    return format(value, "g")


def _weights(labels, weights):
    return ", ".join(gettext("%(name)s %(points)s") % {"name": labels.get(code, code),
                                                       "points": score_figure(points)}
                     for code, points in weights.items())


def score_explanation():
    """How a score on the page is reached, sentence by sentence, with the engine's own
    figures (read when called): a weight changed in treatments.engine is the weight the page
    states."""
    severities = dict(ConsultationConcern.Severity.choices)
    depths = dict(DepthLevel.objects.filter(rank__in=engine.TARGET_DEPTH.values())
                  .values_list("rank", "label"))
    distances = [
        ngettext("%(points)s %(count)d level away", "%(points)s %(count)d levels away",
                 distance) % {"points": score_figure(points), "count": distance}
        if distance else gettext("%(points)s at that depth") % {"points": score_figure(points)}
        for distance, points in sorted(engine.DEPTH_POINTS.items())]
    return [
        gettext("Score = indication points + depth fit − cautions − pigmentation risk."),
        gettext("Indication points: for each concern, the treatment's strength for it "
                "(%(strengths)s) times the concern's severity (%(severities)s); a contested "
                "use counts half.") % {
            "strengths": _weights(dict(Indication.Strength.choices), engine.STRENGTH_POINTS),
            "severities": _weights(severities, engine.SEVERITY_WEIGHT)},
        gettext("Depth fit: for each concern, by how far the treatment's depth is from the "
                "one its severity favours (%(targets)s): %(distances)s, %(further)s "
                "further away.") % {
            "targets": "; ".join(f"{severities.get(severity, severity)}: "
                                 f"{depths.get(rank, rank)}"
                                 for severity, rank in engine.TARGET_DEPTH.items()),
            "distances": ", ".join(distances),
            "further": score_figure(engine.FAR_DEPTH_POINTS)},
        gettext("Cautions: %(points)s per caution.") % {
            "points": score_figure(engine.CAUTION_PENALTY)},
        gettext("Pigmentation risk: %(risks)s.") % {
            "risks": _weights(dict(PihRisk.choices), engine.PIH_PENALTY)},
    ]


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
        "score_explanation": score_explanation(),
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
