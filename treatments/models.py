"""The treatments catalogue: what each procedure treats, how deep it goes, what rules it out,
what must happen before it and how to care for the skin after it, each fact with its evidence.

The catalogue is data. The recommendation engine reads it and nothing in the code depends on a
particular treatment or condition code: a catalogue admin changes a rule here, not in Python.
"""

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from treatments.engine import PHOTOTYPES


# The choices below list the engine's codes (PHOTOTYPES, TREATMENT_AREAS) with their labels.
class Phototype(models.TextChoices):
    I = "I", _("Type I")
    II = "II", _("Type II")
    III = "III", _("Type III")
    IV = "IV", _("Type IV")
    V = "V", _("Type V")
    VI = "VI", _("Type VI")


class PihRisk(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")
    UNSOURCED = "unsourced", _("No source found")


class TreatmentArea(models.TextChoices):
    FULL_FACE = "full_face", _("Full face")
    PERIORAL = "perioral", _("Around the mouth")
    PARTIAL_FACE = "partial_face", _("Part of the face")
    NECK = "neck", _("Neck")
    BODY = "body", _("Body")


class Confidence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


lower_code = RegexValidator(
    r"^[a-z][a-z0-9_]*$", _("Use lower-case letters, digits and underscores, starting with a letter.")
)
upper_code = RegexValidator(
    r"^[A-Z][A-Z0-9_]*$", _("Use capital letters, digits and underscores, starting with a letter.")
)


class CatalogueRecord(models.Model):
    """Something catalogue admins keep.

    `customised_at` is set when a person edits the record in the admin; from then on the
    catalogue loader leaves it alone unless it is asked to reset.
    """

    customised_at = models.DateTimeField(_("edited by an admin at"), null=True, blank=True,
                                         editable=False)

    class Meta:
        abstract = True


class CodedRecord(CatalogueRecord):
    """A catalogue record known everywhere by its code (in intakes, rules, the engine's
    input and output). A code that other records use cannot change: they would silently
    point at something else."""

    code_field = "code"

    class Meta:
        abstract = True

    def code_in_use(self):
        """The first kind of record that refers to this one, or None."""
        for relation in self._meta.related_objects:
            accessor = relation.get_accessor_name()
            if accessor is None or accessor.endswith("+"):
                continue
            if relation.one_to_one:
                if hasattr(self, accessor):
                    return relation.related_model._meta.verbose_name_plural
            elif getattr(self, accessor).exists():
                return relation.related_model._meta.verbose_name_plural
        return None

    def clean(self):
        super().clean()
        if not self.pk:
            return
        field = self.code_field
        stored = type(self).objects.filter(pk=self.pk).values_list(field, flat=True).first()
        if stored is not None and stored != getattr(self, field):
            used_by = self.code_in_use()
            if used_by:
                raise ValidationError({
                    field: _(
                        "The code %(code)s is in use by %(used_by)s, so it cannot change: "
                        "they refer to this record by it. Add a new record instead."
                    ) % {"code": stored, "used_by": used_by},
                })


class EvidenceSource(CodedRecord):
    """A publication, label, guideline or page a catalogue fact rests on."""

    class Type(models.TextChoices):
        SEED = "seed", _("Clinic reference text")
        GUIDELINE = "guideline", _("Guideline or consensus")
        SYSTEMATIC_REVIEW = "systematic_review", _("Systematic review")
        REVIEW = "review", _("Review")
        LABEL_IFU = "label_ifu", _("Label or instructions for use")
        IFU_REPRODUCTION = "ifu_reproduction", _("Reproduced device instructions")
        RCT = "rct", _("Randomised controlled trial")
        CLINICAL_STUDY = "clinical_study", _("Clinical study")
        TEXTBOOK_CHAPTER = "textbook_chapter", _("Textbook chapter")
        REGULATOR_STATEMENT = "regulator_statement", _("Regulator statement")
        CLINIC_PAGE = "clinic_page", _("Clinic page")
        VENDOR_PAGE = "vendor_page", _("Vendor page")
        CONSUMER_PAGE = "consumer_page", _("Consumer page")
        QA_FORUM = "qa_forum", _("Question-and-answer forum")

    code_field = "key"
    key = models.CharField(_("key"), max_length=60, unique=True, validators=[upper_code])
    type = models.CharField(_("type"), max_length=30, choices=Type.choices)
    title = models.CharField(_("title"), max_length=400)
    authors = models.CharField(_("authors"), max_length=300, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    citation = models.CharField(_("citation"), max_length=300, blank=True)
    url = models.URLField(_("address"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    covers = models.ManyToManyField(
        "TreatmentCategory", blank=True, related_name="+", verbose_name=_("subject covers"),
        help_text=_("The treatment categories this source's subject covers (a device class, "
                    "a drug class, a procedure family). The catalogue review checks that each "
                    "of them has a rule or a decision wherever this source is cited for one."),
    )

    class Meta:
        ordering = ["key"]
        verbose_name = _("evidence source")
        verbose_name_plural = _("evidence sources")

    def __str__(self):
        return f"{self.key}: {self.title}"


class EvidenceBasis(CodedRecord):
    """What kind of support a rule has (a label, a guideline, clinic practice...)."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("evidence basis")
        verbose_name_plural = _("evidence bases")

    def __str__(self):
        return self.label


class Mechanism(CodedRecord):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["label"]
        verbose_name = _("mechanism")
        verbose_name_plural = _("mechanisms")

    def __str__(self):
        return self.label


class DepthLevel(CodedRecord):
    """How deep a treatment acts, from the skin surface (rank 0) downwards."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[lower_code])
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True,
                                            help_text=_("0 is the surface; larger is deeper."))
    label = models.CharField(_("label"), max_length=120)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("depth level")
        verbose_name_plural = _("depth levels")

    def __str__(self):
        return self.label


class TreatmentCategory(CodedRecord):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=120)
    is_product = models.BooleanField(
        _("a product, not a procedure"), default=False,
        help_text=_("Its treatments are products the patient uses (a gel, a mask), so a plan "
                    "lists them as products to use rather than as procedures to book."),
    )

    class Meta:
        ordering = ["label"]
        verbose_name = _("treatment category")
        verbose_name_plural = _("treatment categories")

    def __str__(self):
        return self.label


class Concern(CodedRecord):
    """A skin concern a patient comes in with (acne scars, melasma, laxity...)."""

    code = models.CharField(_("code"), max_length=40, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=160)
    patient_label = models.CharField(_("label for patients"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("concern")
        verbose_name_plural = _("concerns")

    def __str__(self):
        return self.label


class Condition(CodedRecord):
    """Something in a patient's history that can rule a treatment out or call for care:
    a status, illness, medicine, allergy, device, local skin problem or recent procedure."""

    class Category(models.TextChoices):
        PREGNANCY_BREASTFEEDING = "pregnancy_breastfeeding", _("Pregnancy and breastfeeding")
        MEDICAL = "medical", _("Medical conditions")
        MEDICATIONS = "medications", _("Medications")
        ALLERGIES = "allergies", _("Allergies")
        IMPLANTS_DEVICES = "implants_devices", _("Implants and devices")
        SKIN_AT_SITE = "skin_at_site", _("The skin at the treatment site")
        RECENT_PROCEDURES = "recent_procedures", _("Recent procedures")
        LIFESTYLE = "lifestyle", _("Lifestyle")

    class Kind(models.TextChoices):
        STATUS = "status", _("Status")
        MEDICAL = "medical", _("Medical condition")
        MEDICATION = "medication", _("Medication")
        ALLERGY = "allergy", _("Allergy")
        DEVICE = "device", _("Device or implant")
        LOCAL = "local", _("Local skin problem")
        HISTORY = "history", _("History")
        LIFESTYLE = "lifestyle", _("Lifestyle")

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=160)
    question = models.CharField(_("question for the patient"), max_length=300)
    clinician_question = models.CharField(
        _("question on the clinician's intake"), max_length=300, blank=True,
        help_text=_("Worded for the clinician ('Does the patient...?'). Left empty, the "
                    "clinician's intake asks the patient's question."),
    )
    detail_prompt = models.CharField(
        _("detail prompt"), max_length=200, blank=True,
        help_text=_("Asked when the answer is yes, e.g. 'Which medicine?'. Leave empty for none."),
    )
    category = models.CharField(_("intake section"), max_length=40, choices=Category.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    examples = models.TextField(_("examples"), blank=True, help_text=_("One per line."))
    note = models.TextField(_("note"), blank=True)
    implies = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="implied_by",
        verbose_name=_("implies"),
        help_text=_("Conditions that are also true whenever this one is "
                    "(an active cold sore implies a history of cold sores)."),
    )
    unsure_allowed = models.BooleanField(
        _("'unsure' is an answer"), default=False,
        help_text=_("Offer 'unsure' beside yes and no (for example for pregnancy)."),
    )
    position = models.PositiveSmallIntegerField(_("position in the intake"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("medical condition")
        verbose_name_plural = _("medical conditions")

    def __str__(self):
        return self.label


class DatedQuestion(CodedRecord):
    """An intake question answered with a date ("when did you last..."), from which
    time-window conditions such as 'isotretinoin in the last 6 months' are derived."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=160)
    question = models.CharField(_("question for the patient"), max_length=300)
    ongoing_label = models.CharField(
        _("'still ongoing' answer"), max_length=100, blank=True,
        help_text=_("For example 'Still taking it'. Leave empty when it cannot be ongoing."),
    )
    ongoing_condition = models.ForeignKey(
        Condition, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("condition when ongoing"),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("dated question")
        verbose_name_plural = _("dated questions")

    def __str__(self):
        return self.label

    def clean(self):
        super().clean()
        if self.ongoing_condition_id and not self.ongoing_label:
            raise ValidationError({"ongoing_label": _(
                "Name the 'still ongoing' answer, or remove the condition it sets.")})


class ConditionWindow(CatalogueRecord):
    """A condition that applies when a dated answer falls within a time window before the
    consultation, e.g. recent_tan = a tan within the last 6 weeks."""

    class Unit(models.TextChoices):
        DAYS = "days", _("days")
        WEEKS = "weeks", _("weeks")
        MONTHS = "months", _("months")

    question = models.ForeignKey(DatedQuestion, on_delete=models.CASCADE, related_name="windows",
                                 verbose_name=_("dated question"))
    condition = models.OneToOneField(Condition, on_delete=models.PROTECT, related_name="window",
                                     verbose_name=_("condition"))
    length = models.PositiveSmallIntegerField(_("length"))
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)

    class Meta:
        ordering = ["question", "length"]
        verbose_name = _("time window")
        verbose_name_plural = _("time windows")

    def __str__(self):
        return f"{self.condition.code}: {self.length} {self.unit}"

    def clean(self):
        super().clean()
        if self.length == 0:
            raise ValidationError({"length": _("A window must be at least 1 long.")})


def interval_errors(length, unit, length_field, unit_field):
    """The errors of an optional interval given as a length and a unit: both or neither,
    and at least 1 long."""
    if length is None and not unit:
        return {}
    if length is None:
        return {length_field: _("Give the length with the unit, or clear both.")}
    if not unit:
        return {unit_field: _("Give the unit with the length, or clear both.")}
    if length == 0:
        return {length_field: _("An interval must be at least 1 long.")}
    return {}


def interval_text(length, unit):
    """'2 weeks', '3 months', for display."""
    return f"{length} {ConditionWindow.Unit(unit).label}"


class Requirement(CodedRecord):
    """A step that must (or should) happen before a procedure, such as antiviral cover."""

    class Kind(models.TextChoices):
        MEDICINE = "medicine", _("A medicine")
        PROCEDURE = "procedure", _("A procedure")
        INSTRUCTION = "instruction", _("An instruction to the patient")

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[lower_code])
    label = models.CharField(_("label"), max_length=160)
    patient_label = models.CharField(
        _("label for patients"), max_length=160, blank=True,
        help_text=_("The step's name as the patient reads it on their plan, in plain words. "
                    "Where it is empty, the patient reads the label."))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices,
                            default=Kind.INSTRUCTION)
    clinician_explanation = models.TextField(_("explanation for clinicians"))
    patient_explanation = models.TextField(_("explanation for patients"))
    safety_note = models.TextField(
        _("who must not receive it"), blank=True,
        help_text=_("For a medicine or a procedure: who must not receive this step, or why no "
                    "one is excluded. The step's own contraindications are listed below."),
    )
    safety_sources = models.ManyToManyField("EvidenceSource", blank=True, related_name="+",
                                            verbose_name=_("safety sources"))

    class Meta:
        ordering = ["label"]
        verbose_name = _("pre-treatment requirement")
        verbose_name_plural = _("pre-treatment requirements")

    def __str__(self):
        return self.label


class ConflictPolicy(CodedRecord):
    """What the app does with contradictory or missing intake answers. These are the app's
    own policies, not clinical claims; the engine applies the active ones by their code."""

    code = models.CharField(_("code"), max_length=60, unique=True, validators=[lower_code])
    title = models.CharField(_("title"), max_length=160)
    trigger = models.TextField(_("when it applies"))
    action = models.TextField(_("what the app does"))
    basis = models.CharField(_("basis"), max_length=40, default="app_policy")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("conflict policy")
        verbose_name_plural = _("conflict policies")

    def __str__(self):
        return self.title


class Disagreement(CodedRecord):
    """A point where sources disagree, and how the catalogue settles it."""

    code = models.CharField(_("code"), max_length=20, unique=True, validators=[upper_code])
    topic = models.CharField(_("topic"), max_length=200)
    summary = models.TextField(_("what the sources say"))
    resolution = models.TextField(_("how the catalogue settles it"))
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("source disagreement")
        verbose_name_plural = _("source disagreements")

    def __str__(self):
        return f"{self.code}: {self.topic}"


class Treatment(CodedRecord):
    code = models.CharField(_("code"), max_length=40, unique=True, validators=[upper_code])
    name = models.CharField(_("name"), max_length=200)
    aliases = models.TextField(_("other names"), blank=True, help_text=_("One per line."))
    category = models.ForeignKey(TreatmentCategory, on_delete=models.PROTECT,
                                 related_name="treatments", verbose_name=_("category"))
    mechanisms = models.ManyToManyField(Mechanism, related_name="treatments",
                                        verbose_name=_("mechanisms"))
    depth = models.ForeignKey(DepthLevel, on_delete=models.PROTECT, related_name="treatments",
                              verbose_name=_("depth"))
    depth_note = models.TextField(_("depth note"), blank=True)
    clinician_description = models.TextField(_("description for clinicians"))
    patient_description = models.TextField(_("description for patients"))
    referral = models.BooleanField(
        _("refer out"), default=False,
        help_text=_("A specialist referral, shown as such and never booked as a procedure."),
    )
    active = models.BooleanField(_("active"), default=True)
    key_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                         verbose_name=_("key sources"))

    fitzpatrick_suitable = models.JSONField(_("suitable phototypes"), default=list, blank=True)
    fitzpatrick_caution = models.JSONField(_("caution phototypes"), default=list, blank=True)
    fitzpatrick_excluded = models.JSONField(_("excluded phototypes"), default=list, blank=True)
    fitzpatrick_unsourced = models.BooleanField(
        _("phototype ranges unsourced"), default=False,
        help_text=_("No source gives suitable or caution phototypes for this treatment."),
    )
    pih_risk = models.JSONField(
        _("pigmentation (PIH) risk by phototype"), default=dict, blank=True,
        help_text=_("Risk of post-inflammatory hyperpigmentation for each phototype."),
    )
    fitzpatrick_note = models.TextField(_("phototype note"), blank=True)
    fitzpatrick_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                                 verbose_name=_("phototype sources"))

    sessions_typical = models.CharField(_("typical sessions"), max_length=300, blank=True)
    sessions_interval = models.CharField(_("interval between sessions"), max_length=300,
                                         blank=True)
    sessions_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                              verbose_name=_("session sources"))

    downtime_min_days = models.PositiveSmallIntegerField(_("downtime from (days)"), null=True,
                                                         blank=True)
    downtime_max_days = models.PositiveSmallIntegerField(_("downtime to (days)"), null=True,
                                                         blank=True)
    downtime_note = models.TextField(_("downtime note"), blank=True)
    downtime_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                              verbose_name=_("downtime sources"))

    unsourced_notes = models.TextField(
        _("gaps in the evidence"), blank=True,
        help_text=_("What no source could confirm, one item per line."),
    )
    regulatory_note = models.TextField(_("regulatory note"), blank=True)
    regulatory_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                                verbose_name=_("regulatory sources"))

    minimum_interval_length = models.PositiveSmallIntegerField(
        _("minimum interval before a repeat"), null=True, blank=True,
        help_text=_("The shortest time its label or instructions allow between two sessions. "
                    "Leave empty when no source gives one."),
    )
    minimum_interval_unit = models.CharField(_("unit"), max_length=10,
                                             choices=ConditionWindow.Unit.choices, blank=True)
    minimum_interval_note = models.TextField(_("minimum interval note"), blank=True)
    minimum_interval_sources = models.ManyToManyField(
        EvidenceSource, blank=True, related_name="+", verbose_name=_("minimum interval sources"))
    disagreements = models.ManyToManyField(Disagreement, blank=True, related_name="treatments",
                                           verbose_name=_("source disagreements"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("treatment")
        verbose_name_plural = _("treatments")

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        errors = {}
        ranges = {
            "fitzpatrick_suitable": self.fitzpatrick_suitable or [],
            "fitzpatrick_caution": self.fitzpatrick_caution or [],
            "fitzpatrick_excluded": self.fitzpatrick_excluded or [],
        }
        for field, types in ranges.items():
            unknown = [t for t in types if t not in PHOTOTYPES]
            if unknown:
                errors[field] = _("Unknown phototype: %(types)s.") % {"types": ", ".join(map(str, unknown))}
        seen = {}
        for field, types in ranges.items():
            for phototype in types:
                if phototype in seen:
                    errors.setdefault(field, _(
                        "Type %(type)s is already in the %(other)s range: a phototype belongs to "
                        "one range only."
                    ) % {"type": phototype, "other": self._meta.get_field(seen[phototype]).verbose_name})
                seen.setdefault(phototype, field)
        if self.fitzpatrick_unsourced and (ranges["fitzpatrick_suitable"] or ranges["fitzpatrick_caution"]):
            errors["fitzpatrick_unsourced"] = _(
                "Untick this, or clear the suitable and caution ranges: ranges cannot be both "
                "given and unsourced."
            )
        if self.pih_risk:
            bad = [t for t, risk in self.pih_risk.items()
                   if t not in PHOTOTYPES or risk not in PihRisk.values]
            if bad or set(self.pih_risk) != set(PHOTOTYPES):
                errors["pih_risk"] = _("Give a pigmentation risk for each of the six phototypes.")
        errors.update(interval_errors(self.minimum_interval_length, self.minimum_interval_unit,
                                      "minimum_interval_length", "minimum_interval_unit"))
        if (self.downtime_min_days is not None and self.downtime_max_days is not None
                and self.downtime_min_days > self.downtime_max_days):
            errors["downtime_max_days"] = _(
                "Downtime ends before it starts: the upper figure (%(max)s days) must be at "
                "least the lower one (%(min)s days)."
            ) % {"min": self.downtime_min_days, "max": self.downtime_max_days}
        if errors:
            raise ValidationError(errors)

    def get_absolute_url(self):
        return reverse("treatments:treatment-detail", args=[self.code])

    @property
    def minimum_interval(self):
        """(length, unit) of the minimum interval before a repeat, or None."""
        if self.minimum_interval_length and self.minimum_interval_unit:
            return self.minimum_interval_length, self.minimum_interval_unit
        return None

    @property
    def minimum_interval_display(self):
        interval = self.minimum_interval
        return interval_text(*interval) if interval else ""

    def phototype_suitability(self, phototype):
        """'suitable', 'caution', 'excluded' or 'unknown' for one phototype."""
        for label, types in (("excluded", self.fitzpatrick_excluded),
                             ("caution", self.fitzpatrick_caution),
                             ("suitable", self.fitzpatrick_suitable)):
            if phototype in (types or []):
                return label
        return "unknown"

    def phototype_rows(self):
        """Each phototype with its suitability and pigmentation risk, for display."""
        return [
            {"phototype": t, "suitability": self.phototype_suitability(t),
             "pih_risk": (self.pih_risk or {}).get(t, PihRisk.UNSOURCED)}
            for t in PHOTOTYPES
        ]

    @property
    def alias_list(self):
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]

    @property
    def unsourced_list(self):
        return [line.strip() for line in self.unsourced_notes.splitlines() if line.strip()]


class TreatmentPart(CatalogueRecord):
    """A record that exists only as part of one treatment."""

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.treatment.code}: {self.describe()}"


class Indication(TreatmentPart):
    class Strength(models.TextChoices):
        PRIMARY = "primary", _("Primary")
        SECONDARY = "secondary", _("Secondary")

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE,
                                  related_name="indications", verbose_name=_("treatment"))
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="indications",
                                verbose_name=_("concern"))
    strength = models.CharField(_("strength"), max_length=20, choices=Strength.choices)
    caution = models.BooleanField(
        _("contested"), default=False,
        help_text=_("Sources disagree on this use: use it with caution."),
    )
    note = models.TextField(_("note"), blank=True)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["treatment", "id"]
        constraints = [models.UniqueConstraint(fields=["treatment", "concern"],
                                               name="one_indication_per_concern")]
        verbose_name = _("indication")
        verbose_name_plural = _("indications")

    def describe(self):
        return f"{self.concern.code} ({self.strength})"


class ConcernExclusion(TreatmentPart):
    """A concern the treatment must not be used for, though someone may claim it."""

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE,
                                  related_name="not_indicated", verbose_name=_("treatment"))
    concern = models.ForeignKey(Concern, on_delete=models.PROTECT, related_name="exclusions",
                                verbose_name=_("concern"))
    reason = models.TextField(_("reason"))
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["treatment", "id"]
        constraints = [models.UniqueConstraint(fields=["treatment", "concern"],
                                               name="one_exclusion_per_concern")]
        verbose_name = _("not indicated for")
        verbose_name_plural = _("not indicated for")

    def describe(self):
        return f"not for {self.concern.code}"


class ContraindicationRule(TreatmentPart):
    """A condition that rules a treatment out (absolute), needs the clinician's written
    justification (relative), or is worth a note only (informational)."""

    class Severity(models.TextChoices):
        ABSOLUTE = "absolute", _("Absolute")
        RELATIVE = "relative", _("Relative")
        INFORMATIONAL = "informational", _("Informational")

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, related_name="rules",
                                  verbose_name=_("treatment"))
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="rules",
                                  verbose_name=_("condition"))
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices)
    rationale = models.TextField(_("rationale"))
    scope = models.TextField(
        _("when it becomes absolute"), blank=True,
        help_text=_("For a relative rule that is absolute for some products or sites."),
    )
    basis = models.ForeignKey(EvidenceBasis, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="rules", verbose_name=_("basis"))
    confidence = models.CharField(_("confidence"), max_length=10, choices=Confidence.choices,
                                  blank=True)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="rules",
                                     verbose_name=_("sources"))
    contraindicated_by = models.ManyToManyField(
        EvidenceSource, blank=True, related_name="+",
        verbose_name=_("sources that call it a contraindication"),
        help_text=_("Among its sources, those that list this condition as a contraindication. "
                    "A relative rule with any needs a recorded disagreement explaining why."),
    )
    disagreement = models.ForeignKey(
        "Disagreement", on_delete=models.PROTECT, null=True, blank=True, related_name="rules",
        verbose_name=_("disagreement"),
        help_text=_("Where sources disagree about this rule: how the catalogue settles it."),
    )
    window_length = models.PositiveSmallIntegerField(
        _("this rule's own time window"), null=True, blank=True,
        help_text=_("For a condition that follows from a date: how long it matters for this "
                    "treatment, where this treatment's sources give a different interval from "
                    "the condition's window. Leave empty to use the condition's window."),
    )
    window_unit = models.CharField(_("window unit"), max_length=10,
                                   choices=ConditionWindow.Unit.choices, blank=True)
    window_sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                            verbose_name=_("window sources"))

    class Meta:
        ordering = ["treatment", "id"]
        constraints = [models.UniqueConstraint(fields=["treatment", "condition"],
                                               name="one_rule_per_condition")]
        verbose_name = _("contraindication rule")
        verbose_name_plural = _("contraindication rules")

    def describe(self):
        return f"{self.condition.code} ({self.severity})"

    @property
    def window(self):
        """(length, unit) of the rule's own window, or None for the condition's window."""
        if self.window_length and self.window_unit:
            return self.window_length, self.window_unit
        return None

    @property
    def window_display(self):
        window = self.window
        return interval_text(*window) if window else ""

    def clean(self):
        super().clean()
        errors = interval_errors(self.window_length, self.window_unit, "window_length",
                                 "window_unit")
        if (self.window_length is not None or self.window_unit) and self.condition_id \
                and not ConditionWindow.objects.filter(condition_id=self.condition_id).exists():
            errors["window_length"] = _(
                "%(condition)s does not follow from a date, so a time window has no meaning "
                "for it. Clear the window."
            ) % {"condition": self.condition.label}
        if self.condition_id and not self.condition.active:
            errors["condition"] = _(
                "%(condition)s is inactive, so the intake never asks about it and this rule "
                "could never fire. Reactivate the condition first."
            ) % {"condition": self.condition.label}
        if self.severity and self.severity != self.Severity.INFORMATIONAL:
            if not self.basis_id:
                errors["basis"] = _("Say what this rule rests on.")
            if not self.confidence:
                errors["confidence"] = _("Say how confident the evidence is.")
        if self.scope and self.severity != self.Severity.RELATIVE:
            errors["scope"] = _("Only a relative rule can become absolute in some cases.")
        if ("condition" not in errors and self.treatment_id and self.condition_id
                and CoverageDecision.objects.filter(treatment_id=self.treatment_id,
                                                    condition_id=self.condition_id).exists()):
            errors["condition"] = _(
                "A reviewed decision says no rule is needed for this condition on this "
                "treatment. Delete that decision first, so the two never contradict."
            )
        if errors:
            raise ValidationError(errors)


class PreTreatmentRequirement(TreatmentPart):
    """A step before the procedure, triggered by a condition, a concern, a phototype range,
    the treatment area, or every patient."""

    class Strength(models.TextChoices):
        REQUIRED = "required", _("Required")
        RECOMMENDED = "recommended", _("Recommended")
        CONSIDER = "consider", _("Consider")

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE,
                                  related_name="requirements", verbose_name=_("treatment"))
    requirement = models.ForeignKey(Requirement, on_delete=models.PROTECT,
                                    related_name="uses", verbose_name=_("requirement"))
    applies_to_all = models.BooleanField(_("applies to every patient"), default=False)
    conditions = models.ManyToManyField(Condition, blank=True, related_name="requirements",
                                        verbose_name=_("when the patient has"))
    concerns = models.ManyToManyField(Concern, blank=True, related_name="requirements",
                                      verbose_name=_("when treating"))
    phototype_from = models.CharField(_("phototype from"), max_length=3,
                                      choices=Phototype.choices, blank=True)
    phototype_to = models.CharField(_("phototype to"), max_length=3, choices=Phototype.choices,
                                    blank=True)
    treatment_areas = models.JSONField(_("treatment areas"), default=list, blank=True)
    strength = models.CharField(_("strength"), max_length=20, choices=Strength.choices)
    timing = models.CharField(_("timing"), max_length=300, blank=True)
    patient_timing = models.CharField(
        _("timing for the patient"), max_length=300, blank=True,
        help_text=_("The timing as the patient reads it on their plan, in plain words."))
    note = models.TextField(_("note"), blank=True)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))
    data_key = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["treatment", "id"]
        verbose_name = _("pre-treatment step")
        verbose_name_plural = _("pre-treatment steps")

    def describe(self):
        return self.requirement.code

    def applies_to_labels(self):
        """Who this step is for, in words (uses prefetched conditions and concerns)."""
        labels = []
        if self.applies_to_all:
            labels.append(_("every patient"))
        labels += [condition.label for condition in self.conditions.all()]
        labels += [concern.label for concern in self.concerns.all()]
        if self.phototype_from:
            if self.phototype_from == self.phototype_to:
                labels.append(_("phototype %(a)s") % {"a": self.phototype_from})
            else:
                labels.append(_("phototypes %(a)s–%(b)s") % {"a": self.phototype_from,
                                                             "b": self.phototype_to})
        areas = dict(TreatmentArea.choices)
        labels += [_("treatment area: %(area)s") % {"area": areas.get(a, a)}
                   for a in self.treatment_areas or []]
        return labels

    def clean(self):
        super().clean()
        errors = {}
        if bool(self.phototype_from) != bool(self.phototype_to):
            errors["phototype_to"] = _("Give both ends of the phototype range, or neither.")
        elif self.phototype_from and (PHOTOTYPES.index(self.phototype_from)
                                      > PHOTOTYPES.index(self.phototype_to)):
            errors["phototype_to"] = _("The range ends before it starts: %(a)s is after %(b)s.") % {
                "a": self.phototype_from, "b": self.phototype_to}
        bad_areas = [a for a in self.treatment_areas or [] if a not in TreatmentArea.values]
        if bad_areas:
            errors["treatment_areas"] = _("Unknown treatment area: %(areas)s.") % {
                "areas": ", ".join(bad_areas)}
        if errors:
            raise ValidationError(errors)


class RequirementContraindication(CatalogueRecord):
    """A condition under which a pre-treatment step must not itself be given (a priming
    cream in pregnancy), and the safer step to propose instead, if there is one. Without an
    alternative the engine proposes the step flagged, for the clinician to replace."""

    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE,
                                    related_name="contraindications",
                                    verbose_name=_("step"))
    condition = models.ForeignKey(Condition, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("condition"))
    alternative = models.ForeignKey(
        Requirement, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("propose instead"),
    )
    rationale = models.TextField(_("rationale"))
    basis = models.ForeignKey(EvidenceBasis, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("basis"))
    confidence = models.CharField(_("confidence"), max_length=10, choices=Confidence.choices)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["requirement", "id"]
        constraints = [models.UniqueConstraint(fields=["requirement", "condition"],
                                               name="one_step_contraindication_per_condition")]
        verbose_name = _("step contraindication")
        verbose_name_plural = _("step contraindications")

    def __str__(self):
        return f"{self.requirement.code}: not with {self.condition.code}"

    def clean(self):
        super().clean()
        if self.alternative_id and self.alternative_id == self.requirement_id:
            raise ValidationError({"alternative": _(
                "A step cannot be its own alternative; choose another step or none.")})


class CoverageDecision(CatalogueRecord):
    """A reviewed decision that a condition needs no rule: for one treatment, or for every
    treatment of a category ("no bearing for any topical product"). A treatment's own rule or
    decision overrides its category's decision. Without a rule or a decision, a condition is
    "not reviewed" for a treatment, and the app says so rather than showing it as clear."""

    condition = models.ForeignKey(Condition, on_delete=models.PROTECT,
                                  related_name="coverage_decisions",
                                  verbose_name=_("condition"))
    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="coverage_decisions",
                                  verbose_name=_("treatment"))
    category = models.ForeignKey(TreatmentCategory, on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="coverage_decisions",
                                 verbose_name=_("every treatment of the category"))
    reason = models.TextField(_("why no rule is needed"))
    basis = models.ForeignKey(EvidenceBasis, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("basis"))
    confidence = models.CharField(_("confidence"), max_length=10, choices=Confidence.choices)
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))
    reviewed_by = models.CharField(_("reviewed by"), max_length=150)
    reviewed_on = models.DateField(_("reviewed on"))

    class Meta:
        ordering = ["condition", "category", "treatment"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(treatment__isnull=False, category__isnull=True)
                           | models.Q(treatment__isnull=True, category__isnull=False)),
                name="decision_for_a_treatment_or_a_category"),
            models.UniqueConstraint(fields=["condition", "treatment"],
                                    condition=models.Q(treatment__isnull=False),
                                    name="one_decision_per_treatment_and_condition"),
            models.UniqueConstraint(fields=["condition", "category"],
                                    condition=models.Q(category__isnull=False),
                                    name="one_decision_per_category_and_condition"),
        ]
        verbose_name = _("reviewed decision (no rule needed)")
        verbose_name_plural = _("reviewed decisions (no rule needed)")

    def __str__(self):
        target = self.treatment.code if self.treatment_id else (
            _("category %(code)s") % {"code": self.category.code} if self.category_id else "?")
        return f"{self.condition.code if self.condition_id else '?'}: no rule for {target}"

    def describe(self):
        return str(self)

    def clean(self):
        super().clean()
        if bool(self.treatment_id) == bool(self.category_id):
            raise ValidationError(_(
                "Choose either one treatment or a whole category, not both and not neither."))
        if (self.treatment_id and self.condition_id
                and ContraindicationRule.objects.filter(
                    treatment_id=self.treatment_id, condition_id=self.condition_id).exists()):
            raise ValidationError({"condition": _(
                "This treatment has a rule for this condition. A decision that no rule is "
                "needed would contradict it: change or delete the rule instead.")})


class AftercareStep(TreatmentPart):
    """One instruction for the days after a treatment."""

    class Period(models.TextChoices):
        DAYS = "days", _("Between two days")
        ONGOING = "ongoing", _("From a day onwards")
        DAILY = "daily", _("Every day of use")
        LATER = "later", _("At any later visit")

    treatment = models.ForeignKey(Treatment, on_delete=models.CASCADE,
                                  related_name="aftercare", verbose_name=_("treatment"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    period = models.CharField(_("when"), max_length=10, choices=Period.choices,
                              default=Period.DAYS)
    start_day = models.PositiveSmallIntegerField(
        _("from day"), null=True, blank=True, help_text=_("Day 0 is the day of treatment."))
    end_day = models.PositiveSmallIntegerField(_("to day"), null=True, blank=True)
    clinician_text = models.TextField(_("instruction for clinicians"))
    patient_text = models.TextField(_("instruction for patients"))
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))
    data_key = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["treatment", "position", "id"]
        verbose_name = _("aftercare step")
        verbose_name_plural = _("aftercare steps")

    def describe(self):
        return f"aftercare {self.day_range}"

    @property
    def day_range(self):
        if self.period == self.Period.DAILY:
            return _("daily")
        if self.period == self.Period.LATER:
            return _("any later visit")
        if self.period == self.Period.ONGOING:
            return _("day %(start)s onwards") % {"start": self.start_day}
        if self.start_day == self.end_day:
            return _("day %(start)s") % {"start": self.start_day}
        return _("days %(start)s–%(end)s") % {"start": self.start_day, "end": self.end_day}

    def clean(self):
        super().clean()
        errors = {}
        needs_start = self.period in (self.Period.DAYS, self.Period.ONGOING)
        if needs_start and self.start_day is None:
            errors["start_day"] = _("Give the day this step starts (0 is the treatment day).")
        if self.period == self.Period.DAYS:
            if self.end_day is None:
                errors["end_day"] = _("Give the last day of this step.")
            elif self.start_day is not None and self.end_day < self.start_day:
                errors["end_day"] = _(
                    "The step ends before it starts: day %(end)s is before day %(start)s."
                ) % {"start": self.start_day, "end": self.end_day}
        if errors:
            raise ValidationError(errors)


class CatalogueChange(models.Model):
    """One change to the catalogue: who made it, when, and what changed (field by field).

    Written by the catalogue services for every save and delete, whether it came from the
    admin or from the catalogue loader; never edited afterwards.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")

    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+", verbose_name=_("who"))
    actor_label = models.CharField(_("who (as recorded)"), max_length=150)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    model = models.CharField(_("record type"), max_length=60, db_index=True)
    object_id = models.CharField(_("record id"), max_length=40)
    object_repr = models.CharField(_("record"), max_length=300)
    treatment_code = models.CharField(_("treatment"), max_length=40, blank=True, db_index=True)
    changes = models.JSONField(_("what changed"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["model", "object_id"])]
        verbose_name = _("catalogue change")
        verbose_name_plural = _("catalogue changes")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def change_rows(self):
        """(field, before, after) with values as readable text, for the history page."""

        def text(value):
            if value is None or value == "" or value == []:
                return "—"
            if isinstance(value, list):
                return ", ".join(str(item) for item in value)
            if isinstance(value, dict):
                return ", ".join(f"{key}: {item}" for key, item in value.items())
            return str(value)

        return [(field, text(before), text(after))
                for field, (before, after) in self.changes.items()]


# The patient-facing catalogue text that catalogue admins can translate, by model.
CONSENT_PARTS = ("what_it_is", "expected_effects", "common_risks", "serious_risks",
                 "alternatives", "aftercare_duties")
# Each part's heading, as patients and staff read it.
CONSENT_HEADINGS = {
    "what_it_is": _("What it is"), "expected_effects": _("What to expect"),
    "common_risks": _("Common effects"), "serious_risks": _("Rare but serious risks"),
    "alternatives": _("Other options"), "aftercare_duties": _("What you agree to do"),
}


class TreatmentConsent(CatalogueRecord):
    """What a patient reads, and agrees to, before a treatment: what it is, what to expect,
    its common and serious risks, the alternatives and their aftercare duties.

    `version` moves whenever the words change, in English or in a translation, so that a
    consent given on earlier words can always be told from one given on the current ones.
    """

    treatment = models.OneToOneField(Treatment, on_delete=models.CASCADE,
                                     related_name="consent", verbose_name=_("treatment"))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    what_it_is = models.TextField(_("what it is"))
    expected_effects = models.TextField(_("what to expect"))
    common_risks = models.TextField(_("common risks"))
    serious_risks = models.TextField(_("serious risks"))
    alternatives = models.TextField(_("alternatives"))
    aftercare_duties = models.TextField(_("aftercare duties"))
    sources = models.ManyToManyField(EvidenceSource, blank=True, related_name="+",
                                     verbose_name=_("sources"))

    class Meta:
        ordering = ["treatment__name"]
        verbose_name = _("consent text")
        verbose_name_plural = _("consent texts")

    def __str__(self):
        return f"{self.treatment.code} v{self.version}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            before = (TreatmentConsent.objects.filter(pk=self.pk)
                      .values("version", *CONSENT_PARTS).first())
            if before and any(before[part] != getattr(self, part) for part in CONSENT_PARTS):
                self.version = max(self.version, before["version"] + 1)
        super().save(*args, **kwargs)

    def sections(self, translate=None):
        """(heading, text) for each part, the text through `translate` when given."""
        return [(CONSENT_HEADINGS[part],
                 translate(self, part) if translate else getattr(self, part))
                for part in CONSENT_PARTS]

    def words_changed(self):
        """A translation of these words changed: the version moves."""
        TreatmentConsent.objects.filter(pk=self.pk).update(version=models.F("version") + 1)


TRANSLATABLE_FIELDS = {
    "treatment": ("name", "patient_description"),
    "concern": ("patient_label",),
    "condition": ("question", "detail_prompt"),
    "requirement": ("label", "patient_label", "patient_explanation"),
    "datedquestion": ("label", "question", "ongoing_label"),
    "pretreatmentrequirement": ("timing", "patient_timing"),
    "aftercarestep": ("patient_text",),
    "treatmentconsent": CONSENT_PARTS,
}
TRANSLATION_LANGUAGES = [("zh-hans", _("Simplified Chinese"))]


class TextTranslation(CatalogueRecord):
    """Patient-facing catalogue text in another language. Where none exists, patients read
    the English text."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+",
        limit_choices_to={"app_label": "treatments", "model__in": list(TRANSLATABLE_FIELDS)},
        verbose_name=_("kind of catalogue record"))
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    field = models.CharField(_("field"), max_length=40,
                             choices=[(name, name) for names in TRANSLATABLE_FIELDS.values()
                                      for name in dict.fromkeys(names)])
    language = models.CharField(_("language"), max_length=10, choices=TRANSLATION_LANGUAGES)
    text = models.TextField(_("translation"))

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["content_type", "object_id", "field", "language"],
            name="one_translation_per_field_and_language")]
        indexes = [models.Index(fields=["language", "content_type", "object_id"])]
        verbose_name = _("translation")
        verbose_name_plural = _("translations")

    def __str__(self):
        return f"{self.content_type.model} {self.object_id} {self.field} [{self.language}]"

    error_messages = {
        "not_catalogue": _("Translations can be attached only to catalogue records that "
                           "patients read: %(allowed)s."),
        "no_record": _("There is no %(kind)s with id %(id)s."),
        "no_field": _("This record has no translatable field %(field)s; choose one of: "
                      "%(allowed)s."),
    }

    def translatable_fields(self):
        """The fields of the attached record that may be translated; none when the record
        is not a catalogue record patients read."""
        if not self.content_type_id:
            return None
        content_type = ContentType.objects.get_for_id(self.content_type_id)
        if content_type.app_label != "treatments":
            return None
        return TRANSLATABLE_FIELDS.get(content_type.model)

    def save(self, *args, **kwargs):
        if self.translatable_fields() is None:
            # Whatever the path (admin, loader, shell), a translation never sits on patient
            # data or on anything else that is not patient-facing catalogue text.
            raise ValidationError(self.error_messages["not_catalogue"],
                                  code="not_catalogue",
                                  params={"allowed": ", ".join(TRANSLATABLE_FIELDS)})
        before = (TextTranslation.objects.filter(pk=self.pk).values_list("text", flat=True)
                  .first() if self.pk else None)
        super().save(*args, **kwargs)
        if (self.content_type.model == "treatmentconsent" and before is not None
                and before != self.text):
            TreatmentConsent(pk=self.object_id).words_changed()

    def clean(self):
        super().clean()
        if not self.content_type_id:
            return  # a translation inline on a record's page sets it when saving
        allowed = self.translatable_fields()
        if allowed is None:
            raise ValidationError({"content_type": ValidationError(
                self.error_messages["not_catalogue"], code="not_catalogue",
                params={"allowed": ", ".join(TRANSLATABLE_FIELDS)})})
        model = ContentType.objects.get_for_id(self.content_type_id).model_class()
        if self.object_id is not None and not model._default_manager.filter(
                pk=self.object_id).exists():
            raise ValidationError({"object_id": ValidationError(
                self.error_messages["no_record"], code="no_record",
                params={"kind": model._meta.verbose_name, "id": self.object_id})})
        if self.field not in allowed:
            raise ValidationError({"field": ValidationError(
                self.error_messages["no_field"], code="no_field",
                params={"field": self.field, "allowed": ", ".join(allowed)})})


class CatalogueState(models.Model):
    """One row whose token changes with every change to the catalogue, so that a process can
    keep the catalogue as the engine reads it and know, in one query, whether it is current.
    Random tokens rather than a counter: a rolled-back change can never be mistaken for a
    later one."""

    token = models.UUIDField(default=uuid.uuid4)

    class Meta:
        verbose_name = _("catalogue state")
