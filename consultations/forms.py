import datetime
import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consultations.intake import FITZPATRICK_QUESTIONS
from treatments.engine import questionnaire_phototype
from consultations.models import (
    PHOTOTYPE_CHOICES,
    ConditionAnswer,
    Consultation,
    ConsultationConcern,
    DatedAnswer,
    Patient,
    PlannedProcedure,
)
from treatments.models import Condition, TreatmentArea

ACNE_SCARS = "acne_scars"
# The engine's ACNE_SCAR_SUBTYPES, with their labels.
SCAR_SUBTYPES = [("rolling", _("Rolling")), ("boxcar", _("Boxcar")), ("icepick", _("Ice-pick"))]
PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-.]{6,40}$")
# Dates a clinic can mean: no consultation before 1900, no session planned more than ten
# years after its consultation (dates beyond the calendar's ends cannot be worked with).
EARLIEST_DATE = datetime.date(1900, 1, 1)
PLANNING_HORIZON = datetime.timedelta(days=3653)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PatientForm(forms.ModelForm):
    error_messages = {
        "birth_in_future": _("The date of birth cannot be in the future."),
        "birth_too_early": _("Check the year: that date of birth is more than 120 years ago."),
        "bad_phone": _("Use digits, spaces, brackets, dashes and an optional leading +."),
    }

    class Meta:
        model = Patient
        fields = ["full_name", "date_of_birth", "sex", "phone", "email", "preferred_language"]
        widgets = {"date_of_birth": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["full_name"].widget.attrs["autocomplete"] = "off"
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            "full_name",
            Row(Column("date_of_birth"), Column("sex")),
            Row(Column("phone"), Column("email")),
            "preferred_language",
        )

    def clean_date_of_birth(self):
        born = self.cleaned_data["date_of_birth"]
        today = timezone.localdate()
        if born > today:
            raise forms.ValidationError(self.error_messages["birth_in_future"],
                                        code="birth_in_future")
        if born.year < today.year - 120:
            raise forms.ValidationError(self.error_messages["birth_too_early"],
                                        code="birth_too_early")
        return born

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not PHONE_PATTERN.match(phone):
            raise forms.ValidationError(self.error_messages["bad_phone"], code="bad_phone")
        return phone


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Search by name, date of birth or phone"), required=False,
                        max_length=100)


def blank(label):
    return [("", label)]


class IntakeForm(forms.Form):
    """The consultation intake, built from the catalogue: a concern or condition an admin
    adds appears here as a question without a code change.

    A draft may be incomplete; submitting needs every question answered and the review
    confirmed. Either way, what was typed is kept when something needs correcting.
    """

    error_messages = {
        "required_to_submit": _("Answer this before submitting."),
        "date_needed": _("Give the date, or choose another answer."),
        "date_in_future": _("This date is after the consultation date."),
        "date_before_birth": _("This date is before the patient's date of birth."),
        "consultation_in_future": _("The consultation date cannot be in the future."),
        "consultation_too_early": _("The consultation date cannot be before 1900."),
        "subtypes_without_scars": _("Scar types apply only when acne scars are a concern."),
        "no_concern": _("Choose at least one concern, with its severity, before submitting."),
        "review_needed": _("Confirm that you reviewed the medical history with the patient."),
    }

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    submission_key = forms.UUIDField(widget=forms.HiddenInput, required=False)
    consultation_date = forms.DateField(label=_("Consultation date"), widget=DateInput())
    skin_type = forms.ChoiceField(label=_("Skin type"), required=False,
                                  choices=blank(_("Not recorded")) + Consultation.SkinType.choices)
    fitzpatrick = forms.ChoiceField(
        label=_("Fitzpatrick phototype"), required=False,
        choices=blank(_("Not recorded")) + PHOTOTYPE_CHOICES,
        help_text=_("Leave it unrecorded to take the type the questionnaire below gives."),
    )
    treatment_area = forms.ChoiceField(label=_("Treatment area"), required=False,
                                       choices=blank(_("Not recorded")) + TreatmentArea.choices)
    acne_scar_subtypes = forms.MultipleChoiceField(
        label=_("Acne scar types"), required=False, choices=SCAR_SUBTYPES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only when acne scars are a concern."),
    )
    clinician_notes = forms.CharField(label=_("Clinician notes"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    no_medications = forms.BooleanField(label=_("The patient takes no medications"),
                                        required=False)
    history_reviewed = forms.BooleanField(
        label=_("I reviewed this medical history with the patient"), required=False)

    def __init__(self, *args, catalogue, patient, submitting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.patient = patient
        self.submitting = submitting
        for key, label, choices in FITZPATRICK_QUESTIONS:
            self.fields[f"fq_{key}"] = forms.TypedChoiceField(
                label=label, required=False, coerce=int, empty_value=None,
                choices=blank(_("Not answered")) + [(i, text) for i, text in enumerate(choices)],
            )
        severity = blank(_("Not a concern")) + ConsultationConcern.Severity.choices
        for concern in catalogue.concerns:
            self.fields[f"concern_{concern.code}"] = forms.ChoiceField(
                label=concern.label, required=False, choices=severity)
        for condition in catalogue.conditions:
            choices = [(ConditionAnswer.Answer.YES, _("Yes")),
                       (ConditionAnswer.Answer.NO, _("No"))]
            if condition.unsure_allowed:
                choices.append((ConditionAnswer.Answer.UNSURE, _("Unsure")))
            self.fields[f"condition_{condition.code}"] = forms.ChoiceField(
                label=condition.clinician_question or condition.question, required=False,
                choices=choices,
                widget=forms.RadioSelect(attrs={"class": "answer-radio"}),
                help_text=condition.label,
            )
            if condition.detail_prompt:
                self.fields[f"detail_{condition.code}"] = forms.CharField(
                    label=condition.detail_prompt, required=False, max_length=300)
        for question in catalogue.dated_questions:
            # Worded for the clinician asking about the patient.
            choices = [(DatedAnswer.Answer.NEVER, _("Never, or not that they know of")),
                       (DatedAnswer.Answer.DATE, _("On this date"))]
            if question.ongoing_label:
                choices.append((DatedAnswer.Answer.ONGOING, question.ongoing_label))
            self.fields[f"dated_{question.code}"] = forms.ChoiceField(
                label=question.question, required=False, choices=choices,
                widget=forms.RadioSelect(attrs={"class": "answer-radio"}),
            )
            self.fields[f"dated_{question.code}_date"] = forms.DateField(
                label=_("Date"), required=False, widget=DateInput())

    # -- layout --------------------------------------------------------------------------

    def questionnaire_started(self):
        return any(field.value() not in (None, "") for field in self.questionnaire_fields())

    def concern_fields(self):
        return [self[f"concern_{concern.code}"] for concern in self.catalogue.concerns]

    def questionnaire_fields(self):
        return [self[f"fq_{key}"] for key, _label, _choices in FITZPATRICK_QUESTIONS]

    def history_sections(self):
        """The yes/no questions grouped by intake section, in the catalogue's order."""
        sections = {}
        for condition in self.catalogue.conditions:
            rows = sections.setdefault(condition.category, [])
            detail = (self[f"detail_{condition.code}"] if condition.detail_prompt else None)
            rows.append((self[f"condition_{condition.code}"], detail))
        labels = dict(Condition.Category.choices)
        return [(key, labels[key], sections[key]) for key in labels if key in sections]

    def dated_fields(self):
        return [(self[f"dated_{q.code}"], self[f"dated_{q.code}_date"])
                for q in self.catalogue.dated_questions]

    # -- validation ----------------------------------------------------------------------

    def clean_consultation_date(self):
        when = self.cleaned_data["consultation_date"]
        if when > timezone.localdate():
            raise forms.ValidationError(self.error_messages["consultation_in_future"],
                                        code="consultation_in_future")
        if when < EARLIEST_DATE:
            raise forms.ValidationError(self.error_messages["consultation_too_early"],
                                        code="consultation_too_early")
        return when

    def clean(self):
        cleaned = super().clean()
        on = cleaned.get("consultation_date")
        for question in self.catalogue.dated_questions:
            name = f"dated_{question.code}"
            answer, when = cleaned.get(name), cleaned.get(f"{name}_date")
            if (answer == DatedAnswer.Answer.DATE and when is None
                    and f"{name}_date" not in self.errors):
                self.add_error(f"{name}_date", forms.ValidationError(
                    self.error_messages["date_needed"], code="date_needed"))
            if when is not None:
                if on is not None and when > on:
                    self.add_error(f"{name}_date", forms.ValidationError(
                        self.error_messages["date_in_future"], code="date_in_future"))
                elif when < self.patient.date_of_birth:
                    self.add_error(f"{name}_date", forms.ValidationError(
                        self.error_messages["date_before_birth"], code="date_before_birth"))
        if cleaned.get("acne_scar_subtypes") and not cleaned.get(f"concern_{ACNE_SCARS}"):
            self.add_error("acne_scar_subtypes", forms.ValidationError(
                self.error_messages["subtypes_without_scars"], code="subtypes_without_scars"))
        if self.submitting:
            self.check_complete(cleaned)
        return cleaned

    def check_complete(self, cleaned):
        """Submitting needs every question answered: each gap is named beside its field."""
        required = ["skin_type", "treatment_area"]
        if not cleaned.get("fitzpatrick") and not self.questionnaire_phototype():
            required.append("fitzpatrick")
        required += [f"condition_{c.code}" for c in self.catalogue.conditions]
        required += [f"dated_{q.code}" for q in self.catalogue.dated_questions]
        for name in required:
            if not cleaned.get(name) and name not in self.errors:
                self.add_error(name, forms.ValidationError(
                    self.error_messages["required_to_submit"], code="required_to_submit"))
        if not any(cleaned.get(f"concern_{c.code}") for c in self.catalogue.concerns):
            self.add_error(None, forms.ValidationError(self.error_messages["no_concern"],
                                                       code="no_concern"))
        if not cleaned.get("history_reviewed"):
            self.add_error("history_reviewed", forms.ValidationError(
                self.error_messages["review_needed"], code="review_needed"))

    def questionnaire_answers(self):
        data = self.cleaned_data
        return {key: data.get(f"fq_{key}") for key, _label, _choices in FITZPATRICK_QUESTIONS
                if data.get(f"fq_{key}") is not None}

    def questionnaire_phototype(self):
        return questionnaire_phototype(self.questionnaire_answers())

    def answers(self):
        """The intake as plain data, as the save service and the revision history take it."""
        data = self.cleaned_data
        fitzpatrick = data.get("fitzpatrick") or self.questionnaire_phototype()
        return {
            "consultation_date": data["consultation_date"].isoformat(),
            "skin_type": data.get("skin_type", ""),
            "fitzpatrick": fitzpatrick,
            "questionnaire": self.questionnaire_answers(),
            "treatment_area": data.get("treatment_area", ""),
            "acne_scar_subtypes": sorted(data.get("acne_scar_subtypes") or []),
            "clinician_notes": data.get("clinician_notes", ""),
            "no_medications": bool(data.get("no_medications")),
            "history_reviewed": bool(data.get("history_reviewed")),
            "concerns": {c.code: data[f"concern_{c.code}"] for c in self.catalogue.concerns
                         if data.get(f"concern_{c.code}")},
            "conditions": {
                c.code: {"answer": data[f"condition_{c.code}"],
                         "detail": data.get(f"detail_{c.code}", "") if c.detail_prompt else ""}
                for c in self.catalogue.conditions if data.get(f"condition_{c.code}")
            },
            "dated": {
                q.code: {"answer": data[f"dated_{q.code}"],
                         "date": (data[f"dated_{q.code}_date"].isoformat()
                                  if data[f"dated_{q.code}"] == DatedAnswer.Answer.DATE
                                  else None)}
                for q in self.catalogue.dated_questions if data.get(f"dated_{q.code}")
            },
        }


def intake_initial(consultation):
    """The form's starting values for a saved consultation (answers prefetched)."""
    initial = {
        "version": consultation.version,
        "consultation_date": consultation.consultation_date,
        "skin_type": consultation.skin_type,
        "fitzpatrick": consultation.fitzpatrick,
        "treatment_area": consultation.treatment_area,
        "acne_scar_subtypes": consultation.acne_scar_subtypes,
        "clinician_notes": consultation.clinician_notes,
        "no_medications": consultation.no_medications,
        "history_reviewed": consultation.history_reviewed,
    }
    for key, value in (consultation.questionnaire or {}).items():
        initial[f"fq_{key}"] = value
    for concern in consultation.concerns.all():
        initial[f"concern_{concern.concern.code}"] = concern.severity
    for answer in consultation.condition_answers.all():
        initial[f"condition_{answer.condition.code}"] = answer.answer
        initial[f"detail_{answer.condition.code}"] = answer.detail
    for answer in consultation.dated_answers.all():
        initial[f"dated_{answer.question.code}"] = answer.answer
        initial[f"dated_{answer.question.code}_date"] = answer.date
    return initial


class PlannedProcedureForm(forms.Form):
    """Sessions, dates and notes for a procedure added to a plan, and the justification when
    the recommendation flags a caution."""

    error_messages = {
        "date_in_past": _("The first date cannot be before the consultation."),
        "date_too_far": _("Plan the first date within ten years of the consultation."),
        "interval_needed": _("Give the weeks between sessions when there is more than one."),
    }

    sessions = forms.IntegerField(label=_("Sessions"), min_value=1, max_value=24, initial=1)
    interval_weeks = forms.IntegerField(label=_("Weeks between sessions"), min_value=1,
                                        max_value=104, required=False)
    first_date = forms.DateField(label=_("First proposed date"), required=False,
                                 widget=DateInput())
    notes = forms.CharField(label=_("Clinical note (staff only)"), required=False,
                            max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    patient_note = forms.CharField(
        label=_("Note for the patient (optional)"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the patient's page and in its PDF exactly as you write it, so "
                    "write it in plain words and in the patient's language."))
    justification = forms.CharField(
        label=_("Why the cautions are acceptable for this patient"), required=False,
        max_length=PlannedProcedure.JUSTIFICATION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Stored with your name and the time, and shown on the plan."),
    )

    def __init__(self, *args, consultation, **kwargs):
        super().__init__(*args, **kwargs)
        self.consultation = consultation

    def clean_first_date(self):
        first = self.cleaned_data.get("first_date")
        if first and first < self.consultation.consultation_date:
            raise forms.ValidationError(self.error_messages["date_in_past"], code="date_in_past")
        if first and first > self.consultation.consultation_date + PLANNING_HORIZON:
            raise forms.ValidationError(self.error_messages["date_too_far"], code="date_too_far")
        return first

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("sessions") or 1) > 1 and not cleaned.get("interval_weeks"):
            self.add_error("interval_weeks", forms.ValidationError(
                self.error_messages["interval_needed"], code="interval_needed"))
        return cleaned
