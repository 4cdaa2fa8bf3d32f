"""Intake form submissions as a browser would send them, for the tests."""

from django.urls import reverse

from consultations.models import Consultation
from consultations.selectors import intake_catalogue


def complete_intake(**overrides):
    """A complete, valid submission: one concern, every question answered 'no' or 'never'.
    Keyword arguments replace or add fields (None removes one)."""
    catalogue = intake_catalogue()
    data = {
        "consultation_date": "2026-11-20",
        "skin_type": "combination",
        "fitzpatrick": "III",
        "treatment_area": "full_face",
        "concern_acne_scars": "moderate",
        "history_reviewed": "on",
        "submit": "1",
    }
    for condition in catalogue.conditions:
        data[f"condition_{condition.code}"] = "no"
    for question in catalogue.dated_questions:
        data[f"dated_{question.code}"] = "never"
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def as_draft(data):
    data = {k: v for k, v in data.items() if k != "submit"}
    data["save_draft"] = "1"
    return data


def intake_submitted(client, patient, **answers):
    """Submit a complete intake for `patient` through the page; the new consultation."""
    response = client.post(reverse("consultations:consultation-create", args=[patient.pk]),
                           complete_intake(**answers))
    assert response.status_code == 302
    return Consultation.objects.latest("id")
