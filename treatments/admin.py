"""The catalogue admins' workshop: every catalogue record, editable with validation, and the
history of every change. Saves and deletes go through treatments.services, so each one is
recorded with who made it and what changed."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from clinic.admin_site import HistoryAdmin
from treatments.models import (
    PHOTOTYPES,
    TRANSLATABLE_FIELDS,
    AftercareStep,
    CatalogueChange,
    Concern,
    ConcernExclusion,
    Condition,
    ConditionWindow,
    ConflictPolicy,
    ContraindicationRule,
    CoverageDecision,
    DatedQuestion,
    DepthLevel,
    Disagreement,
    EvidenceBasis,
    EvidenceSource,
    Indication,
    Mechanism,
    PihRisk,
    PreTreatmentRequirement,
    Requirement,
    RequirementContraindication,
    TextTranslation,
    TreatmentConsent,
    Treatment,
    TreatmentArea,
    TreatmentCategory,
)
from treatments.coverage import STATE_LABELS, STATES, catalogue_review, coverage_grid, \
    coverage_grid_csv
from treatments.services import (
    catalogue_record_delete,
    catalogue_record_save,
    change_value,
)


def form_changes(form):
    """What a submitted admin form changes, field by field: {field: [before, after]}."""
    changes = {}
    for name in form.changed_data:
        field = form.fields[name]
        before = form.initial.get(name)
        if isinstance(field, forms.ModelChoiceField) and not isinstance(
                field, forms.ModelMultipleChoiceField) and before is not None:
            before = field.queryset.model._default_manager.filter(pk=before).first()
        changes[name] = [change_value(before), change_value(form.cleaned_data.get(name))]
    return changes


class AuditedAdmin(admin.ModelAdmin):
    """Saves, deletes and inline edits go through the catalogue services; the History
    button shows the catalogue's own change records, field by field."""

    object_history_template = "admin/treatments/change_history.html"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        catalogue_record_save(actor=request.user, instance=obj, changes=form_changes(form),
                              created=not change)

    def delete_model(self, request, obj):
        catalogue_record_delete(actor=request.user, instance=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            catalogue_record_delete(actor=request.user, instance=obj)

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        for obj in formset.deleted_objects:
            catalogue_record_delete(actor=request.user, instance=obj)
        for inline_form in formset.forms:
            if inline_form in formset.deleted_forms or not inline_form.has_changed():
                continue
            instance = inline_form.instance
            catalogue_record_save(actor=request.user, instance=instance,
                                  changes=form_changes(inline_form),
                                  created=instance._state.adding)
        formset.save_m2m()

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        entries = self.history_entries(obj)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Change history: %s") % obj,
            "module_name": capfirst(self.opts.verbose_name_plural),
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "entries": entries,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def history_entries(self, obj):
        return CatalogueChange.objects.filter(
            model=obj._meta.model_name, object_id=str(obj.pk)
        ).select_related("actor")


class TranslationInline(GenericTabularInline):
    """Patient-facing text in other languages; patients read English where none is given."""

    model = TextTranslation
    extra = 0
    fields = ["language", "field", "text"]
    verbose_name = _("translation for patients")
    verbose_name_plural = _("translations for patients")

    def get_formset(self, request, obj=None, **kwargs):
        """Offer only the fields of this kind of record that patients read."""
        formset = super().get_formset(request, obj, **kwargs)
        allowed = TRANSLATABLE_FIELDS.get(self.parent_model._meta.model_name, ())
        formset.form.base_fields["field"].choices = [(name, name) for name in allowed]
        return formset


class SourcesMixin:
    autocomplete_fields = ["sources"]


class CodedAdmin(AuditedAdmin):
    search_fields = ["code", "label"]
    list_display = ["code", "label"]


@admin.register(EvidenceSource)
class EvidenceSourceAdmin(AuditedAdmin):
    list_display = ["key", "title", "type", "year"]
    list_filter = ["type", "covers"]
    filter_horizontal = ["covers"]
    search_fields = ["key", "title", "authors", "citation"]


@admin.register(EvidenceBasis)
class EvidenceBasisAdmin(CodedAdmin):
    pass


@admin.register(Mechanism)
class MechanismAdmin(SourcesMixin, CodedAdmin):
    pass


@admin.register(DepthLevel)
class DepthLevelAdmin(CodedAdmin):
    list_display = ["rank", "code", "label"]


@admin.register(TreatmentCategory)
class TreatmentCategoryAdmin(CodedAdmin):
    list_display = ["code", "label", "is_product"]
    list_filter = ["is_product"]


@admin.register(Concern)
class ConcernAdmin(CodedAdmin):
    inlines = [TranslationInline]
    list_display = ["code", "label", "patient_label", "active"]
    list_filter = ["active"]
    search_fields = ["code", "label", "patient_label"]


@admin.register(Condition)
class ConditionAdmin(CodedAdmin):
    inlines = [TranslationInline]
    list_display = ["code", "label", "category", "kind", "unsure_allowed", "active"]
    list_filter = ["category", "kind", "active"]
    search_fields = ["code", "label", "question", "examples"]
    filter_horizontal = ["implies"]


class ConditionWindowInline(admin.TabularInline):
    model = ConditionWindow
    extra = 0
    autocomplete_fields = ["condition"]


@admin.register(DatedQuestion)
class DatedQuestionAdmin(CodedAdmin):
    list_display = ["code", "label", "active"]
    autocomplete_fields = ["ongoing_condition"]
    inlines = [ConditionWindowInline, TranslationInline]


class RequirementContraindicationInline(admin.StackedInline):
    """Who must not receive the step itself, and what to propose instead."""

    model = RequirementContraindication
    fk_name = "requirement"
    extra = 0
    autocomplete_fields = ["condition", "sources"]
    fields = [("condition", "alternative"), ("basis", "confidence"), "rationale", "sources"]


@admin.register(Requirement)
class RequirementAdmin(CodedAdmin):
    list_display = ["code", "label", "patient_label", "kind"]
    search_fields = ["code", "label", "patient_label"]
    list_filter = ["kind"]
    autocomplete_fields = ["safety_sources"]
    inlines = [RequirementContraindicationInline, TranslationInline]


@admin.register(ConflictPolicy)
class ConflictPolicyAdmin(AuditedAdmin):
    list_display = ["code", "title", "active"]
    search_fields = ["code", "title", "trigger", "action"]


@admin.register(Disagreement)
class DisagreementAdmin(SourcesMixin, AuditedAdmin):
    list_display = ["code", "topic"]
    search_fields = ["code", "topic", "summary", "resolution"]


class PihRiskWidget(forms.MultiWidget):
    template_name = "admin/treatments/widgets/pih_risk.html"

    def __init__(self, attrs=None):
        super().__init__([
            forms.Select(choices=PihRisk.choices, attrs={"aria-label": _("Type %s") % t})
            for t in PHOTOTYPES
        ], attrs)

    def decompress(self, value):
        value = value or {}
        return [value.get(t) for t in PHOTOTYPES]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["phototypes"] = list(zip(PHOTOTYPES, context["widget"]["subwidgets"]))
        return context


class PihRiskField(forms.MultiValueField):
    widget = PihRiskWidget

    def __init__(self, **kwargs):
        super().__init__(
            fields=[forms.ChoiceField(choices=PihRisk.choices) for _t in PHOTOTYPES],
            require_all_fields=True, **kwargs,
        )

    def compress(self, data_list):
        return dict(zip(PHOTOTYPES, data_list)) if data_list else {}


def phototype_field(label):
    return forms.MultipleChoiceField(
        label=label, required=False, choices=[(t, t) for t in PHOTOTYPES],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "inline-checkboxes"}),
    )


def interval_sources_check(form, length_field, sources_field, message):
    """An interval given without a source is refused on the sources field."""
    cleaned = form.cleaned_data
    if cleaned.get("DELETE"):
        return
    if cleaned.get(length_field) is not None and not cleaned.get(sources_field):
        form.add_error(sources_field, forms.ValidationError(message, code="no_sources"))


class TreatmentForm(forms.ModelForm):
    fitzpatrick_suitable = phototype_field(_("Suitable phototypes"))
    fitzpatrick_caution = phototype_field(_("Caution phototypes"))
    fitzpatrick_excluded = phototype_field(_("Excluded phototypes"))
    pih_risk = PihRiskField(label=_("Pigmentation (PIH) risk by phototype"))

    error_messages = {
        "no_sources": _("Name at least one source for the minimum interval: a figure the "
                        "catalogue gives needs its evidence."),
    }

    class Meta:
        model = Treatment
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        interval_sources_check(self, "minimum_interval_length", "minimum_interval_sources",
                               self.error_messages["no_sources"])
        return cleaned


class ContraindicationRuleForm(forms.ModelForm):
    error_messages = {
        "no_sources": _("Name at least one source for the rule's own window: a figure the "
                        "catalogue gives needs its evidence."),
    }

    class Meta:
        model = ContraindicationRule
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        interval_sources_check(self, "window_length", "window_sources",
                               self.error_messages["no_sources"])
        return cleaned


class IndicationInline(SourcesMixin, admin.TabularInline):
    model = Indication
    extra = 0
    autocomplete_fields = ["concern", "sources"]


class ConcernExclusionInline(SourcesMixin, admin.TabularInline):
    model = ConcernExclusion
    extra = 0
    autocomplete_fields = ["concern", "sources"]


RULE_FIELDS = [("condition", "severity", "basis", "confidence"), "rationale", "scope",
               "sources", "contraindicated_by", "disagreement", ("window_length", "window_unit"),
               "window_sources"]


class ContraindicationRuleInline(SourcesMixin, admin.StackedInline):
    model = ContraindicationRule
    form = ContraindicationRuleForm
    extra = 0
    autocomplete_fields = ["condition", "sources", "contraindicated_by", "disagreement",
                           "window_sources"]
    fields = RULE_FIELDS


class PreTreatmentRequirementForm(forms.ModelForm):
    treatment_areas = forms.MultipleChoiceField(
        label=_("Treatment areas"), required=False, choices=TreatmentArea.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "inline-checkboxes"}),
    )

    error_messages = {
        "no_target": _(
            "Say who this step applies to: every patient, a condition, a concern, a phototype "
            "range or a treatment area."
        ),
    }

    class Meta:
        model = PreTreatmentRequirement
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("DELETE"):
            return cleaned
        if not any([cleaned.get("applies_to_all"), cleaned.get("conditions"),
                    cleaned.get("concerns"), cleaned.get("phototype_from"),
                    cleaned.get("treatment_areas")]):
            raise forms.ValidationError(self.error_messages["no_target"], code="no_target")
        return cleaned


class PreTreatmentRequirementInline(SourcesMixin, admin.StackedInline):
    model = PreTreatmentRequirement
    form = PreTreatmentRequirementForm
    extra = 0
    autocomplete_fields = ["requirement", "conditions", "concerns", "sources"]
    fields = [("requirement", "strength"), "applies_to_all", ("conditions", "concerns"),
              ("phototype_from", "phototype_to"), "treatment_areas", ("timing", "patient_timing"),
              "note", "sources"]


class AftercareStepInline(SourcesMixin, admin.StackedInline):
    model = AftercareStep
    extra = 0
    fields = [("position", "period", "start_day", "end_day"), "clinician_text", "patient_text",
              "sources"]


@admin.register(Treatment)
class TreatmentAdmin(AuditedAdmin):
    form = TreatmentForm
    list_display = ["code", "name", "category", "depth", "referral", "active"]
    list_filter = [
        "category",
        "mechanisms",
        "depth",
        ("indications__concern", admin.RelatedOnlyFieldListFilter),
        ("rules__condition", admin.RelatedOnlyFieldListFilter),
        "referral",
        "active",
    ]
    search_fields = ["code", "name", "aliases", "clinician_description"]
    autocomplete_fields = ["key_sources", "fitzpatrick_sources", "sessions_sources",
                           "downtime_sources", "regulatory_sources", "minimum_interval_sources"]
    filter_horizontal = ["mechanisms", "disagreements"]
    inlines = [IndicationInline, ConcernExclusionInline, ContraindicationRuleInline,
               PreTreatmentRequirementInline, AftercareStepInline, TranslationInline]
    fieldsets = [
        (None, {"fields": ["code", "name", "aliases", "category", "mechanisms", "active",
                           "referral"]}),
        (_("Depth and descriptions"), {"fields": ["depth", "depth_note",
                                                  "clinician_description",
                                                  "patient_description"]}),
        (_("Phototypes and pigmentation risk"), {"fields": [
            "fitzpatrick_suitable", "fitzpatrick_caution", "fitzpatrick_excluded",
            "fitzpatrick_unsourced", "pih_risk", "fitzpatrick_note", "fitzpatrick_sources"]}),
        (_("Sessions and downtime"), {"fields": [
            "sessions_typical", "sessions_interval", "sessions_sources",
            ("downtime_min_days", "downtime_max_days"), "downtime_note", "downtime_sources"]}),
        (_("Minimum interval before a repeat"), {"fields": [
            ("minimum_interval_length", "minimum_interval_unit"), "minimum_interval_note",
            "minimum_interval_sources"]}),
        (_("Evidence"), {"fields": ["key_sources", "disagreements", "unsourced_notes",
                                    "regulatory_note", "regulatory_sources"]}),
    ]

    def history_entries(self, obj):
        """A treatment's history includes its indications, rules, steps and aftercare."""
        return CatalogueChange.objects.filter(
            Q(model="treatment", object_id=str(obj.pk)) | Q(treatment_code=obj.code)
        ).select_related("actor")


@admin.register(ContraindicationRule)
class ContraindicationRuleAdmin(SourcesMixin, AuditedAdmin):
    form = ContraindicationRuleForm
    list_display = ["treatment", "condition", "severity", "basis", "confidence", "own_window"]
    list_filter = ["severity", "confidence", "basis", "condition__category",
                   ("condition", admin.RelatedOnlyFieldListFilter),
                   ("treatment", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["treatment__code", "treatment__name", "condition__code",
                     "condition__label", "rationale"]
    # Plain lists for the treatment and condition (a few dozen each); sources are searched.
    autocomplete_fields = ["sources", "contraindicated_by", "disagreement", "window_sources"]
    list_select_related = ["treatment", "condition", "basis"]

    @admin.display(description=_("own window"), ordering="window_length")
    def own_window(self, rule):
        return rule.window_display or "—"


class CoverageDecisionForm(forms.ModelForm):
    error_messages = {
        "no_sources": _("Name at least one source: a decision that no rule is needed needs its "
                        "evidence as much as a rule does."),
    }

    class Meta:
        model = CoverageDecision
        fields = ["condition", "treatment", "category", "reason", "basis", "confidence",
                  "sources"]

    def clean_sources(self):
        sources = self.cleaned_data.get("sources")
        if not sources:
            raise forms.ValidationError(self.error_messages["no_sources"], code="no_sources")
        return sources


@admin.register(CoverageDecision)
class CoverageDecisionAdmin(SourcesMixin, AuditedAdmin):
    """Reviewed decisions that a condition needs no rule, with the coverage grid and the
    catalogue review beside them."""

    form = CoverageDecisionForm
    change_list_template = "admin/treatments/coveragedecision/change_list.html"
    list_display = ["condition", "treatment", "category", "basis", "confidence", "reviewed_by",
                    "reviewed_on"]
    list_filter = ["category", ("treatment", admin.RelatedOnlyFieldListFilter),
                   "condition__category", "basis", "confidence"]
    search_fields = ["condition__code", "condition__label", "treatment__code", "reason"]
    list_select_related = ["condition", "treatment", "category", "basis"]
    readonly_fields = ["reviewed_by", "reviewed_on"]
    fields = ["condition", "treatment", "category", "reason", "basis", "confidence", "sources",
              "reviewed_by", "reviewed_on"]

    def save_model(self, request, obj, form, change):
        """Whoever saves a decision is its reviewer, on the day they save it."""
        obj.reviewed_by = request.user.get_username()
        obj.reviewed_on = timezone.localdate()
        changes = form_changes(form)
        changes["reviewed_by"] = [form.initial.get("reviewed_by"), obj.reviewed_by]
        catalogue_record_save(actor=request.user, instance=obj, changes=changes,
                              created=not change)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("grid/", wrap(self.grid_view), name="treatments_coverage_grid"),
            path("grid.csv", wrap(self.grid_csv_view), name="treatments_coverage_grid_csv"),
            path("review/", wrap(self.review_view), name="treatments_catalogue_review"),
        ] + super().get_urls()

    def grid_filters(self, request):
        values = {name: request.GET.get(name, "") for name in
                  ("condition_category", "treatment_category", "state")}
        if values["condition_category"] not in dict(Condition.Category.choices):
            values["condition_category"] = ""
        if not TreatmentCategory.objects.filter(code=values["treatment_category"]).exists():
            values["treatment_category"] = ""
        if values["state"] not in STATES:
            values["state"] = ""
        return values

    def grid_links(self, grid):
        """Each row with each cell's link (to its rule, its decision, or a new decision),
        built from three reversed addresses rather than one reversal per cell."""
        rule = reverse("admin:treatments_contraindicationrule_change", args=[0])
        decision = reverse("admin:treatments_coveragedecision_change", args=[0])
        add = reverse("admin:treatments_coveragedecision_add")
        treatments = dict(Treatment.objects.values_list("code", "pk"))
        conditions = dict(Condition.objects.values_list("code", "pk"))

        def link(row, cell):
            if cell.rule:
                return rule.replace("/0/", f"/{cell.rule}/")
            if cell.decision:
                return decision.replace("/0/", f"/{cell.decision}/")
            return f"{add}?condition={conditions[row.condition]}&treatment={treatments[cell.treatment]}"

        return [(row, [(cell, link(row, cell)) for cell in row.cells]) for row in grid.rows]

    def grid_view(self, request):
        filters = self.grid_filters(request)
        grid = coverage_grid(user=request.user, **filters)
        context = {
            "rows": self.grid_links(grid),
            **self.admin_site.each_context(request),
            "title": _("Evidence coverage"),
            "opts": self.opts,
            "grid": grid,
            "filters": filters,
            "query": request.GET.urlencode(),
            "state_labels": [(state, STATE_LABELS[state]) for state in STATES],
            "condition_categories": Condition.Category.choices,
            "treatment_categories": TreatmentCategory.objects.order_by("code"),
            "treatment_ids": dict(Treatment.objects.values_list("code", "pk")),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/treatments/coverage_grid.html", context)

    def grid_csv_view(self, request):
        grid = coverage_grid(user=request.user, **self.grid_filters(request))
        response = HttpResponse(coverage_grid_csv(grid), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="catalogue-coverage.csv"'
        return response

    def review_view(self, request):
        gaps, counts = catalogue_review(user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Catalogue review: candidate gaps"),
            "opts": self.opts,
            "gaps": gaps,
            "counts": counts,
            "treatment_ids": dict(Treatment.objects.values_list("code", "pk")),
            "condition_ids": dict(Condition.objects.values_list("code", "pk")),
            "step_ids": dict(Requirement.objects.values_list("code", "pk")),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/treatments/catalogue_review.html", context)


@admin.register(AftercareStep)
class AftercareStepAdmin(SourcesMixin, AuditedAdmin):
    """Aftercare steps one by one, where their patient text is translated."""

    list_display = ["treatment", "position", "period", "start_day", "end_day", "patient_text"]
    list_filter = [("treatment", admin.RelatedOnlyFieldListFilter), "period"]
    search_fields = ["treatment__code", "treatment__name", "patient_text", "clinician_text"]
    autocomplete_fields = ["treatment", "sources"]
    list_select_related = ["treatment"]
    inlines = [TranslationInline]


@admin.register(PreTreatmentRequirement)
class PreTreatmentRequirementAdmin(SourcesMixin, AuditedAdmin):
    """Pre-treatment steps one by one, where their timing is translated."""

    form = PreTreatmentRequirementForm
    list_display = ["treatment", "requirement", "strength", "timing", "patient_timing"]
    list_filter = [("treatment", admin.RelatedOnlyFieldListFilter), "strength",
                   ("requirement", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["treatment__code", "requirement__code", "timing", "patient_timing"]
    autocomplete_fields = ["treatment", "requirement", "conditions", "concerns", "sources"]
    list_select_related = ["treatment", "requirement"]
    inlines = [TranslationInline]


@admin.register(TreatmentConsent)
class TreatmentConsentAdmin(SourcesMixin, AuditedAdmin):
    """Consent texts: the version moves by itself whenever the words change, so consents
    signed on earlier words stay recognisable."""

    list_display = ["treatment", "version"]
    search_fields = ["treatment__code", "treatment__name"]
    readonly_fields = ["version"]
    autocomplete_fields = ["treatment", "sources"]


@admin.register(TextTranslation)
class TextTranslationAdmin(AuditedAdmin):
    list_display = ["content_type", "object_id", "field", "language", "text"]
    list_filter = ["language", "content_type", "field"]
    search_fields = ["text"]


@admin.register(CatalogueChange)
class CatalogueChangeAdmin(HistoryAdmin):
    """The change history itself: readable, never editable."""

    list_display = ["at", "actor_label", "action", "model", "object_repr", "treatment_code"]
    list_filter = ["action", "model", "actor_label"]
    search_fields = ["object_repr", "treatment_code", "actor_label"]
    date_hierarchy = "at"
