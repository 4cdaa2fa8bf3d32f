"""Submitting admin change forms in tests the way a browser would: start from what the page
shows, change a few values, post everything back."""

from django import forms


def _field_data(prefix_name, bound_field):
    field = bound_field.field
    value = bound_field.value()
    widget = field.widget
    if isinstance(widget, forms.MultiWidget):
        parts = widget.decompress(value) if not isinstance(value, list) else value
        return {f"{prefix_name}_{i}": part for i, part in enumerate(parts) if part is not None}
    if isinstance(field, forms.BooleanField):
        return {prefix_name: "on"} if value else {}
    if value is None:
        return {prefix_name: ""}
    if isinstance(value, (list, tuple)):
        return {prefix_name: [str(getattr(v, "pk", v)) for v in value]}
    return {prefix_name: value}


def form_data(form):
    data = {}
    for name in form.fields:
        data.update(_field_data(form.add_prefix(name), form[name]))
    return data


def admin_change_data(response):
    """Everything the admin change page would post back unchanged."""
    context = response.context
    data = form_data(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
        for form in formset.forms:
            data.update(form_data(form))
    return data
