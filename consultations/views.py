from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.generic import DetailView, FormView, ListView, TemplateView

from consultations import selectors
from consultations.forms import IntakeForm, PatientForm, PatientSearchForm, intake_initial
from consultations.services import (
    IntakeEditConflict,
    NotYourClinic,
    consultation_save,
    patient_save,
)


class DashboardView(PermissionRequiredMixin, TemplateView):
    permission_required = "consultations.view_patient"
    template_name = "consultations/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(**selectors.dashboard(user=self.request.user), **kwargs)


class PatientListView(PermissionRequiredMixin, ListView):
    permission_required = "consultations.view_patient"
    template_name = "consultations/patient_list.html"
    context_object_name = "patients"
    paginate_by = 25

    def get_queryset(self):
        self.search_form = PatientSearchForm(self.request.GET or None)
        query = self.search_form.cleaned_data["q"] if self.search_form.is_valid() else ""
        self.query = query
        return selectors.patient_list(user=self.request.user, query=query)

    def get_context_data(self, **kwargs):
        return super().get_context_data(search_form=self.search_form, query=self.query, **kwargs)


class PatientFormView(PermissionRequiredMixin, FormView):
    """Register a patient, or correct one's details."""

    form_class = PatientForm
    template_name = "consultations/patient_form.html"

    def get_permission_required(self):
        return ["consultations.change_patient" if "pk" in self.kwargs
                else "consultations.add_patient"]

    def dispatch(self, request, *args, **kwargs):
        self.patient = None
        if request.user.is_authenticated and "pk" in kwargs:
            self.patient = selectors.patient_get(user=request.user, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.patient}

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, **kwargs)

    def form_valid(self, form):
        try:
            patient = patient_save(user=self.request.user, patient=self.patient,
                                   data=form.cleaned_data)
        except NotYourClinic:
            raise PermissionDenied from None
        messages.success(self.request, _("Patient details saved."))
        return redirect("consultations:patient-detail", pk=patient.pk)


class PatientDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "consultations.view_patient"
    template_name = "consultations/patient_detail.html"
    context_object_name = "patient"

    def get_object(self, queryset=None):
        return selectors.patient_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            consultations=selectors.patient_consultations(self.object), **kwargs)


class IntakeView(PermissionRequiredMixin, FormView):
    """The consultation intake: new (for a patient) or an existing one being edited."""

    form_class = IntakeForm
    template_name = "consultations/intake_form.html"

    def get_permission_required(self):
        return ["consultations.change_consultation" if "pk" in self.kwargs
                else "consultations.add_consultation"]

    def dispatch(self, request, *args, **kwargs):
        self.consultation = None
        if request.user.is_authenticated and request.user.has_perms(
                self.get_permission_required()):
            if "pk" in kwargs:
                self.consultation = selectors.consultation_get(user=request.user, pk=kwargs["pk"])
                self.patient = self.consultation.patient
            else:
                self.patient = selectors.patient_get(user=request.user, pk=kwargs["patient_pk"])
        return super().dispatch(request, *args, **kwargs)

    @property
    def submitting(self):
        return self.request.method == "POST" and (
            "submit" in self.request.POST
            or (self.consultation is not None and not self.consultation.is_draft))

    def get_form_kwargs(self):
        self.catalogue = selectors.intake_catalogue()
        return {**super().get_form_kwargs(), "catalogue": self.catalogue,
                "patient": self.patient, "submitting": self.submitting}

    def get_initial(self):
        if self.consultation is not None:
            return intake_initial(self.consultation)
        return {"consultation_date": timezone.localdate()}

    def get_context_data(self, **kwargs):
        return super().get_context_data(patient=self.patient, consultation=self.consultation,
                                        **kwargs)

    def form_invalid(self, form):
        messages.error(self.request, _("Nothing was saved: correct the answers marked below."))
        return super().form_invalid(form)

    def form_valid(self, form):
        try:
            consultation = consultation_save(
                user=self.request.user, patient=self.patient, answers=form.answers(),
                submit=self.submitting, consultation=self.consultation,
                expected_version=form.cleaned_data.get("version"),
            )
        except IntakeEditConflict as conflict:
            current = conflict.consultation
            form.add_error(None, _(
                "%(name)s saved this intake at %(time)s while you were editing it, so your "
                "changes were not saved. Your answers are still below: open the current "
                "version in a new tab, compare, then save again."
            ) % {"name": current.updated_by.get_full_name() if current.updated_by else _("Someone"),
                 "time": current.updated_at.strftime("%H:%M")})
            return self.render_to_response(self.get_context_data(form=form, conflict=current))
        except NotYourClinic:
            raise PermissionDenied from None
        notices = selectors.consultation_notices(
            selectors.consultation_get(user=self.request.user, pk=consultation.pk),
            self.catalogue)
        saved = _("Intake submitted.") if not consultation.is_draft else _("Draft saved.")
        if notices:
            saved += " " + ngettext("%(count)d notice needs your attention.",
                                    "%(count)d notices need your attention.",
                                    len(notices)) % {"count": len(notices)}
        messages.success(self.request, saved)
        return redirect("consultations:consultation-detail", pk=consultation.pk)


class ConsultationDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "consultations.view_consultation"
    template_name = "consultations/consultation_detail.html"
    context_object_name = "consultation"

    def get_object(self, queryset=None):
        return selectors.consultation_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        catalogue = selectors.intake_catalogue()
        return super().get_context_data(
            notices=selectors.consultation_notices(self.object, catalogue),
            patient=self.object.patient, **kwargs)


class ConsultationHistoryView(PermissionRequiredMixin, DetailView):
    permission_required = "consultations.view_consultation"
    template_name = "consultations/consultation_history.html"
    context_object_name = "consultation"

    def get_object(self, queryset=None):
        return selectors.consultation_get(user=self.request.user, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            revisions=selectors.consultation_revisions(self.object),
            patient=self.object.patient, **kwargs)


def home(request):
    """Clinicians start on their dashboard; everyone else on the catalogue."""
    if request.user.has_perm("consultations.view_patient"):
        return DashboardView.as_view()(request)
    return redirect(reverse("treatments:treatment-list"))
