from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from treatments.models import Concern, DepthLevel, Mechanism, TreatmentCategory


class TreatmentFilterForm(forms.Form):
    """Narrows the catalogue list. Every filter is optional; codes travel in the URL."""

    text = forms.CharField(label=_("Name contains"), required=False, max_length=100)
    concern = forms.ModelChoiceField(
        label=_("Treats"), required=False, to_field_name="code", empty_label=_("Any concern"),
        queryset=Concern.objects.filter(active=True).order_by("label"),
    )
    mechanism = forms.ModelChoiceField(
        label=_("Mechanism"), required=False, to_field_name="code",
        empty_label=_("Any mechanism"), queryset=Mechanism.objects.order_by("label"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), required=False, to_field_name="code",
        empty_label=_("Any category"), queryset=TreatmentCategory.objects.order_by("label"),
    )
    depth = forms.ModelChoiceField(
        label=_("Depth"), required=False, to_field_name="code", empty_label=_("Any depth"),
        queryset=DepthLevel.objects.order_by("rank"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.error_messages["invalid_choice"] = _(
                    "That choice is not in the catalogue; showing every option instead."
                )
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("text", type="search"), "concern", "mechanism", "category", "depth",
        )

    def filters(self):
        """The valid filters only: a bad value in one field does not hide the others."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: cleaned.get(name) for name in self.fields if name not in self.errors
                and cleaned.get(name) not in (None, "")}
