"""The recommendation page's wording: the score explanation states the engine's own figures."""

import pytest
from django.urls import reverse

from consultations.recommendation_page import score_explanation, score_figure
from tests.consultations.intake_data import intake_submitted as submit
from tests.factories import PatientFactory
from treatments import engine


def all_figures():
    weights = [engine.STRENGTH_POINTS, engine.SEVERITY_WEIGHT, engine.DEPTH_POINTS,
               engine.PIH_PENALTY]
    return {score_figure(points) for table in weights for points in table.values()} | {
        score_figure(engine.FAR_DEPTH_POINTS), score_figure(engine.CAUTION_PENALTY)}


@pytest.mark.django_db
class TestScoreExplanation:
    def test_it_states_each_of_the_engines_weights(self):
        text = " ".join(score_explanation())

        assert "Primary 2, Secondary 1" in text
        assert "Mild 1, Moderate 2, Severe 3" in text
        assert "1 at that depth, 0.5 1 level away, 0 2 levels away, -0.5 further away" in text
        assert "Cautions: 2 per caution." in text
        assert "Pigmentation risk: High 2, Moderate 1." in text

    def test_a_weight_changed_in_the_engine_changes_the_text(self, monkeypatch):
        monkeypatch.setattr(engine, "CAUTION_PENALTY", 3.5)
        monkeypatch.setattr(engine, "STRENGTH_POINTS", {"primary": 4, "secondary": 1.5})
        monkeypatch.setattr(engine, "FAR_DEPTH_POINTS", -1)

        text = " ".join(score_explanation())

        assert "Cautions: 3.5 per caution." in text
        assert "Primary 4, Secondary 1.5" in text
        assert "-1 further away" in text
        assert "Primary 2" not in text

    def test_the_page_shows_the_figures_the_engine_scores_with(self, client_as, clinician,
                                                                clinic):
        consultation = submit(client_as(clinician), PatientFactory(clinic=clinic))

        response = client_as(clinician).get(
            reverse("consultations:consultation-recommendations", args=[consultation.pk]))

        shown = response.text.split('class="small text-body-secondary score-explanation">')[1]
        shown = shown.split("</p>")[0]
        assert shown == " ".join(score_explanation()).replace("'", "&#x27;")
        assert all(figure in shown for figure in all_figures())
