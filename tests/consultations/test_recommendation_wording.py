"""The recommendation page's wording: the score explanation states the engine's own figures,
and the engine's notes and reasons are shown in the reader's language while the command's
output stays English."""

import io
import json
import types

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

from consultations.recommendation_page import score_explanation, score_figure
from tests.consultations.intake_data import intake_submitted as submit
from tests.factories import PatientFactory
from treatments import engine
from treatments.intake_input import recommendation_json

SENSITIVE_NOTE = "A sensitive skin type is read as a mild sensitive-barrier concern."
OUT_OF_RANGE = "Fitzpatrick type %(phototype)s is outside this treatment's safe range."
CHINESE = {SENSITIVE_NOTE: "敏感肤质按轻度屏障敏感处理。",
           OUT_OF_RANGE: "菲茨帕特里克 %(phototype)s 型超出此疗法的安全范围。"}
LASER = engine.TreatmentFacts("LASER", "Laser", 2, indications=(("acne_scars", "primary",
                                                                 False),),
                              suitable=frozenset({"I", "II"}), excluded=frozenset({"VI"}))


@pytest.fixture
def chinese_catalogue(monkeypatch):
    """The Simplified Chinese catalogue with these engine messages translated."""
    chinese = trans_real.translation("zh-hans")
    translated = chinese.gettext
    monkeypatch.setattr(chinese, "gettext", lambda message: CHINESE.get(message)
                        or translated(message))


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


class TestEngineMessagesAreTranslated:
    def test_notes_and_reasons_are_translatable_not_fixed_english(self):
        rec = engine.recommend(engine.Intake(fitzpatrick="VI", skin_type="sensitive",
                                             concerns=(("acne_scars", "mild"),)),
                               engine.CatalogueSnapshot(treatments=(LASER,)))

        [note] = rec.notes
        [flag] = rec.treatments[0].flags
        assert isinstance(note.title, Promise) and isinstance(note.message, Promise)
        assert isinstance(flag.reason, Promise)
        assert str(flag.reason) == "Fitzpatrick type VI is outside this treatment's safe range."

    def test_the_page_shows_them_in_the_readers_language(self, chinese_catalogue):
        rec = engine.recommend(engine.Intake(fitzpatrick="VI", skin_type="sensitive",
                                             concerns=(("acne_scars", "mild"),)),
                               engine.CatalogueSnapshot(treatments=(LASER,)))
        [flag] = rec.treatments[0].flags
        context = {"recommendation": rec, "labels": {}, "sources": {}, "treatments": {},
                   "consultation": types.SimpleNamespace(version=1, is_draft=False),
                   "score_explanation": []}

        with translation.override("zh-hans"):
            body = render_to_string("consultations/_recommendations_body.html", context)
            shown_flag = render_to_string("consultations/_flag.html",
                                          {**context, "flag": flag})

        assert "敏感肤质按轻度屏障敏感处理。" in body
        assert SENSITIVE_NOTE not in body
        assert "菲茨帕特里克 VI 型超出此疗法的安全范围。" in shown_flag


@pytest.mark.django_db
def test_the_command_prints_english_whatever_the_active_language(tmp_path, chinese_catalogue):
    path = tmp_path / "intake.json"
    path.write_text(json.dumps({"fitzpatrick": "VI", "skin_type": "sensitive",
                                "concerns": ["acne_scars"]}), encoding="utf-8")
    out = io.StringIO()

    with translation.override("zh-hans"):
        call_command("recommend", "--input", str(path), stdout=out)

    result = json.loads(out.getvalue())
    assert f"sensitive_skin_type: {SENSITIVE_NOTE}" in result["notes"]
    assert "敏感" not in out.getvalue()


def test_the_commands_json_holds_plain_strings():
    rec = engine.recommend(engine.Intake(fitzpatrick="VI", skin_type="sensitive",
                                         concerns=(("acne_scars", "mild"),)),
                           engine.CatalogueSnapshot(treatments=(LASER,)))

    def strings(value):
        if isinstance(value, dict):
            return [s for item in value.items() for part in item for s in strings(part)]
        if isinstance(value, list):
            return [s for item in value for s in strings(item)]
        return [value] if isinstance(value, (str, Promise)) else []

    found = strings(recommendation_json(rec))
    assert found and all(type(value) is str for value in found)
    json.dumps(recommendation_json(rec))
