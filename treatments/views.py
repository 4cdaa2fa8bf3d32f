from django.contrib.auth.mixins import PermissionRequiredMixin
from django.views.generic import DetailView, ListView

from treatments.forms import TreatmentFilterForm
from treatments.selectors import treatment_detail, treatment_list


class TreatmentListView(PermissionRequiredMixin, ListView):
    """The catalogue browser: every active treatment, narrowed by the filters."""

    permission_required = "treatments.view_treatment"
    template_name = "treatments/treatment_list.html"
    context_object_name = "treatments"

    def get_queryset(self):
        self.filter_form = TreatmentFilterForm(self.request.GET or None)
        return treatment_list(user=self.request.user, **self.filter_form.filters())

    def get_context_data(self, **kwargs):
        return super().get_context_data(filter_form=self.filter_form,
                                        filtered=bool(self.filter_form.filters()), **kwargs)


class TreatmentDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "treatments.view_treatment"
    template_name = "treatments/treatment_detail.html"
    context_object_name = "treatment"

    def get_object(self, queryset=None):
        return treatment_detail(user=self.request.user, code=self.kwargs["code"])
