"""Patients and their consultations: the intake (skin analysis and medical history) that the
recommendation engine reads. A patient belongs to one clinic; only that clinic's staff see
them (see consultations.selectors)."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.models import Clinic
from treatments.engine import UNKNOWN_PHOTOTYPE
from treatments.models import Concern, Condition, DatedQuestion, Phototype, TreatmentArea

# The intake's choices list the engine's codes (treatments.engine: PHOTOTYPES, SKIN_TYPES,
# SEVERITIES, ANSWERS, DATED_ANSWER_KINDS) with their labels, and no others.
PHOTOTYPE_CHOICES = [*Phototype.choices, (UNKNOWN_PHOTOTYPE, _("Unknown"))]


class Patient(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    class Language(models.TextChoices):
        ENGLISH = "en", _("English")
        CHINESE = "zh-hans", _("Simplified Chinese")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients",
                               verbose_name=_("clinic"))
    full_name = models.CharField(_("full name"), max_length=200)
    date_of_birth = models.DateField(_("date of birth"))
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, blank=True, editable=False)
    email = models.EmailField(_("email"), blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10,
                                          choices=Language.choices, default=Language.ENGLISH)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["full_name", "date_of_birth"]
        indexes = [
            models.Index(fields=["clinic", "full_name"]),
            models.Index(fields=["clinic", "date_of_birth"]),
            models.Index(fields=["clinic", "phone_digits"]),
        ]
        verbose_name = _("patient")
        verbose_name_plural = _("patients")

    def __str__(self):
        return self.full_name

    def save(self, *args, **kwargs):
        # Phone numbers are searched by their digits, whatever spacing was typed.
        self.phone_digits = "".join(ch for ch in self.phone if ch.isdigit())
        super().save(*args, **kwargs)


class Consultation(models.Model):
    """One consultation's intake. `version` goes up with every save, so that two people
    editing the same intake cannot silently overwrite each other."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")

    class SkinType(models.TextChoices):
        NORMAL = "normal", _("Normal")
        DRY = "dry", _("Dry")
        OILY = "oily", _("Oily")
        COMBINATION = "combination", _("Combination")
        SENSITIVE = "sensitive", _("Sensitive")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consultations",
                                verbose_name=_("patient"))
    clinician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="consultations", verbose_name=_("clinician"))
    consultation_date = models.DateField(_("consultation date"), default=timezone.localdate)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    submission_key = models.UUIDField(
        null=True, blank=True, editable=False,
        help_text=_("Sent with the new-intake form, so a repeated submission (a double "
                    "click, a resend) finds this consultation instead of making another. "
                    "Unique per patient: a key is only ever matched within the patient's "
                    "own records."))

    skin_type = models.CharField(_("skin type"), max_length=20, choices=SkinType.choices,
                                 blank=True)
    fitzpatrick = models.CharField(_("Fitzpatrick phototype"), max_length=10,
                                   choices=PHOTOTYPE_CHOICES, blank=True)
    questionnaire = models.JSONField(_("Fitzpatrick questionnaire answers"), default=dict,
                                     blank=True)
    treatment_area = models.CharField(_("treatment area"), max_length=20,
                                      choices=TreatmentArea.choices, blank=True)
    acne_scar_subtypes = models.JSONField(_("acne scar types"), default=list, blank=True)
    clinician_notes = models.TextField(_("clinician notes"), blank=True)
    no_medications = models.BooleanField(_("takes no medications"), default=False)
    history_reviewed = models.BooleanField(_("history reviewed with the patient"),
                                           default=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["-consultation_date", "-id"]
        indexes = [models.Index(fields=["status", "consultation_date"])]
        constraints = [models.UniqueConstraint(fields=["patient", "submission_key"],
                                               name="one_consultation_per_submission_key")]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")

    def __str__(self):
        return f"{self.patient} — {self.consultation_date:%Y-%m-%d}"

    @property
    def is_draft(self):
        return self.status == self.Status.DRAFT


class ConsultationConcern(models.Model):
    class Severity(models.TextChoices):
        MILD = "mild", _("Mild")
        MODERATE = "moderate", _("Moderate")
        SEVERE = "severe", _("Severe")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="concerns")
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="+")
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "concern"],
                                               name="one_answer_per_concern")]


class ConditionAnswer(models.Model):
    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        UNSURE = "unsure", _("Unsure")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="condition_answers")
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "condition"],
                                               name="one_answer_per_condition")]


class DatedAnswer(models.Model):
    class Answer(models.TextChoices):
        NEVER = "never", _("Never, or not that I know of")
        DATE = "date", _("On this date")
        ONGOING = "ongoing", _("Still ongoing")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="dated_answers")
    question = models.ForeignKey(DatedQuestion, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(_("answer"), max_length=10, choices=Answer.choices)
    date = models.DateField(_("date"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "question"],
                                               name="one_answer_per_dated_question")]


class ConsultationRevision(models.Model):
    """The intake as it stood after one save: who saved it, when, and what changed.
    Earlier answers stay readable here after later edits."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE,
                                     related_name="revisions")
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Consultation.Status.choices)
    saved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                 null=True, related_name="+")
    saved_by_name = models.CharField(max_length=200)
    saved_at = models.DateTimeField(default=timezone.now)
    answers = models.JSONField(default=dict)
    changes = models.JSONField(default=list)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["consultation", "version"],
                                               name="one_revision_per_version")]


class TreatmentPlan(models.Model):
    """What the clinician proposes for one consultation, built from its recommendation.

    It records the intake version and catalogue state it was built on; procedures keep the
    flags they were reviewed with, so a later change that brings a new flag is noticed.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SHARED = "shared", _("Shared with the patient")
        ACCEPTED = "accepted", _("Accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT,
                                     related_name="plans", verbose_name=_("consultation"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.DRAFT)
    notes = models.TextField(_("notes for the patient"), blank=True)
    intake_version = models.PositiveIntegerField(_("intake version"))
    catalogue_version = models.PositiveIntegerField(_("catalogue state"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(_("last reviewed at"), null=True, blank=True)
    shared_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", help_text=_("Empty when the patient accepted on their plan page."))
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    acceptance_seen_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When a clinician saw the patient's acceptance in the inbox."))
    reopened_at = models.DateTimeField(
        null=True, blank=True,
        help_text=_("When an accepted plan was taken back to draft; the patient's page says "
                    "the clinic is updating it."))
    needs_review_since = models.DateTimeField(
        _("needs review since"), null=True, blank=True,
        help_text=_("Set when a planned procedure has a flag nobody has reviewed (an intake "
                    "edit, a catalogue change or a date reached), cleared by the review."))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["needs_review_since"])]
        verbose_name = _("treatment plan")
        verbose_name_plural = _("treatment plans")

    def __str__(self):
        return f"{_('Plan')} #{self.pk} — {self.consultation.patient}"

    @property
    def is_editable(self):
        return self.status == self.Status.DRAFT

    @property
    def is_open(self):
        return self.status in (self.Status.DRAFT, self.Status.SHARED)


class PlanStatusChange(models.Model):
    """One move of a plan's state, with who made it and why (a reason is required to reopen
    or withdraw an accepted plan)."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE,
                             related_name="status_changes")
    from_status = models.CharField(max_length=10, choices=TreatmentPlan.Status.choices)
    to_status = models.CharField(max_length=10, choices=TreatmentPlan.Status.choices)
    reason = models.TextField(_("reason"), blank=True)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+",
                                   help_text=_("Empty when the patient made the move."))
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]


class PlannedProcedure(models.Model):
    """One procedure or aftercare product in a plan. A relatively contraindicated one
    carries the clinician's written justification, with their name and time. The clinical
    note and the justification stay with the staff; the patient reads only the note written
    for them."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="procedures")
    treatment = models.ForeignKey("treatments.Treatment", on_delete=models.PROTECT,
                                  related_name="+", verbose_name=_("treatment"))
    sessions = models.PositiveSmallIntegerField(_("sessions"), default=1)
    interval_weeks = models.PositiveSmallIntegerField(_("weeks between sessions"), null=True,
                                                      blank=True)
    first_date = models.DateField(_("first proposed date"), null=True, blank=True)
    notes = models.TextField(
        _("clinical note"), blank=True,
        help_text=_("For the clinic's staff only; never shown to the patient."))
    patient_note = models.TextField(
        _("note for the patient"), blank=True,
        help_text=_("Shown on the patient's page and in its PDF exactly as written."))
    # One limit for a justification, wherever it is written (adding, editing, reviewing).
    JUSTIFICATION_MAX_LENGTH = 4000
    justification = models.TextField(_("justification of the cautions"), blank=True)
    justified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                     null=True, blank=True, related_name="+")
    justified_at = models.DateTimeField(null=True, blank=True)
    reviewed_flags = models.JSONField(
        default=list, help_text=_("The flags (code and severity) the clinician reviewed."))
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["plan", "treatment"],
                                               name="one_entry_per_treatment_in_a_plan")]

    # A change to a plan's procedures is a change to the plan: its updated_at moves, which
    # is what the patient's rendered plan is keyed on (consultations.patient_plan).
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._plan_touch()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        self._plan_touch()
        return result

    def _plan_touch(self):
        TreatmentPlan.objects.filter(pk=self.plan_id).update(updated_at=timezone.now())

    def proposed_dates(self):
        """The session dates, from the first date and the interval."""
        return course_dates(self.first_date, self.sessions, self.interval_weeks)


def course_dates(first_date, sessions, interval_weeks):
    """The day of each session of a course: from the first date, every `interval_weeks`
    (one day when there is no interval); none without a first date."""
    if first_date is None:
        return []
    step = datetime.timedelta(weeks=interval_weeks or 0)
    count = (sessions or 1) if interval_weeks else 1
    return [first_date + step * number for number in range(count)]


class PlanShareLink(models.Model):
    """A patient's personal link to their plan. Only a hash of the token is stored, so the
    link itself exists only in what was given to the patient."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(_("locked at"), null=True, blank=True)
    emailed_to = models.EmailField(blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def state(self, now=None):
        """'active', 'expired', 'revoked' or 'locked'."""
        now = now or timezone.now()
        if self.revoked_at:
            return "revoked"
        if self.locked_at:
            return "locked"
        if self.expires_at <= now:
            return "expired"
        return "active"


class PlanQuestion(models.Model):
    """A question a patient sent about their plan from the plan page."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.CASCADE, related_name="questions")
    message = models.TextField(_("question"))
    asked_at = models.DateTimeField(auto_now_add=True)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-asked_at", "-id"]


class SignedConsent(models.Model):
    """A patient's signed consent to one planned procedure: an immutable record of exactly
    what they were shown (the text and its SHA-256), on which plan, procedure, consent
    text version and catalogue state, their typed name and signature, and when, from where
    and on which browser. A later change to the procedure, the plan or the consent text
    makes it superseded (see consultations.consent); it is never edited."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="consents")
    # Kept as it was even when the procedure is later removed from the plan: the record
    # still says which one it was (no database constraint, nothing cascades into it).
    procedure = models.ForeignKey(PlannedProcedure, on_delete=models.DO_NOTHING, null=True,
                                  db_constraint=False, related_name="consents")
    treatment = models.ForeignKey("treatments.Treatment", on_delete=models.PROTECT,
                                  related_name="+")
    consent_version = models.PositiveIntegerField(_("consent text version"))
    procedure_fingerprint = models.CharField(max_length=64, help_text=_(
        "What was planned when it was signed: a change to the procedure or the plan's sharing "
        "gives another fingerprint."))
    catalogue_version = models.PositiveIntegerField(_("catalogue state"))
    language = models.CharField(_("language"), max_length=10)
    text = models.TextField(_("text shown"))
    text_sha256 = models.CharField(_("SHA-256 of the text shown"), max_length=64)
    typed_name = models.CharField(_("typed name"), max_length=200)
    signature = models.TextField(_("drawn signature"), blank=True,
                                 help_text=_("A PNG image as a data URL; empty when the patient "
                                             "signed with their typed name only."))
    signed_at = models.DateTimeField(_("signed at"))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    in_clinic = models.BooleanField(_("signed in the clinic"), default=False)
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", help_text=_("The clinician who handed their screen to the patient."))
    seen_at = models.DateTimeField(null=True, blank=True, help_text=_(
        "When a clinician saw it in the inbox: the one thing that may be set later."))

    class Meta:
        ordering = ["-signed_at", "-id"]
        verbose_name = _("signed consent")
        verbose_name_plural = _("signed consents")

    def __str__(self):
        return f"{_('Consent')} #{self.pk}: {self.typed_name}, {self.signed_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A signed consent is never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("A signed consent is never deleted.")
