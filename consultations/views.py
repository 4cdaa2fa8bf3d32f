import uuid

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from clinic.audit import audit, audit_shown
from clinic.middleware import HANDOVER, PENDING_INTAKE
from clinic.models import AuditEvent
from clinic.typed_text import typed_text_storable
from consultations import selectors
from consultations.consent import consent_seen, consent_states
from consultations.forms import (
    IntakeForm,
    PatientForm,
    PatientSearchForm,
    PlannedProcedureForm,
    intake_initial,
)
from consultations.models import Patient, PlannedProcedure, TreatmentPlan
from consultations.patient_plan import patient_plan_body
from consultations.patient_views import consent_form, consent_pdf_response
from consultations.plan_services import (
    LIVE_STATES,
    PlanReviewError,
    PlanRuleError,
    caution_codes,
    plan_create,
    plan_procedure_add,
    plan_moves,
    plan_procedure_remove,
    plan_acceptance_acknowledge,
    plan_procedure_reschedule,
    plan_question_answer,
    plan_reason_needed,
    plan_recheck,
    plan_review,
    plan_share,
    plans_recheck,
    plan_share_link_revoke,
    plan_status_change,
)
from consultations.recommendation_page import recommendation_section
from consultations.services import (
    IntakeEditConflict,
    NotYourClinic,
    consultation_save,
    patient_save,
)
from treatments.models import Treatment
from treatments.selectors import catalogue_labels, sources_by_key


class DashboardView(PermissionRequiredMixin, TemplateView):
    permission_required = "consultations.view_patient"
    template_name = "consultations/dashboard.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            **selectors.dashboard(user=self.request.user),
            answer_draft=self.request.session.pop("answer-draft", None), **kwargs)


class PatientListView(PermissionRequiredMixin, ListView):
    """The clinic's patients. A search is sent by POST, so that a patient's name or date of
    birth never stands in an address (browser history, server and proxy logs); its pages
    are further POSTs of the same search. A query in the address (?q=) is ignored."""

    permission_required = "consultations.view_patient"
    template_name = "consultations/patient_list.html"
    context_object_name = "patients"
    paginate_by = 25

    def post(self, request, *args, **kwargs):
        self.kwargs[self.page_kwarg] = request.POST.get(self.page_kwarg) or 1
        return self.get(request, *args, **kwargs)

    def get_queryset(self):
        searched = self.request.POST if self.request.method == "POST" else None
        self.search_form = PatientSearchForm(searched)
        query = self.search_form.cleaned_data["q"] if self.search_form.is_valid() else ""
        self.query = query
        return selectors.patient_list(user=self.request.user, query=query)

    def paginate_queryset(self, queryset, page_size):
        """The page of patients shown, each recorded as shown (read once, for both)."""
        paginator, page, patients, is_paginated = super().paginate_queryset(queryset,
                                                                            page_size)
        page.object_list = list(patients)
        audit_shown("listed", page.object_list, user=self.request.user)
        return paginator, page, page.object_list, is_paginated

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
        if "pk" in kwargs and request.user.has_perms(self.get_permission_required()):
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
        plans = list(selectors.patient_plans(self.object))
        plans_recheck(plan for plan in plans if plan.status in LIVE_STATES)
        return super().get_context_data(
            consultations=selectors.patient_consultations(self.object), plans=plans, **kwargs)


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
        kwargs = {**super().get_form_kwargs(), "catalogue": self.catalogue,
                  "patient": self.patient, "submitting": self.submitting}
        kept = self.kept_answers()
        if kept is not None:
            kwargs["data"] = kept
            messages.warning(self.request, _(
                "Your session ended while you were filling this in. We kept the answers you "
                "submitted: check them, then save."))
        return kwargs

    def kept_answers(self):
        """Answers submitted here after the session had expired, offered back once."""
        if self.request.method != "GET":
            return None
        kept = self.request.session.get(PENDING_INTAKE)
        if not kept or kept["path"] != self.request.path or kept["user"] not in (
                None, self.request.user.pk):
            return None
        del self.request.session[PENDING_INTAKE]
        data = QueryDict(mutable=True)
        for key, values in kept["data"].items():
            if key != "csrfmiddlewaretoken":
                data.setlist(key, values)
        return data

    def get_initial(self):
        if self.consultation is not None:
            return intake_initial(self.consultation)
        return {"submission_key": uuid.uuid4(), "consultation_date": timezone.localdate()}

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
                submission_key=form.cleaned_data.get("submission_key"),
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
        notices = selectors.consultation_notices(consultation)
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
        return super().get_context_data(
            notices=selectors.consultation_notices(self.object),
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


class RecommendationView(PermissionRequiredMixin, TemplateView):
    """The heart of the app: suitable procedures best first with why, cautions, exclusions
    with the answer that caused them, refer-out options, from the current answers and
    catalogue."""

    permission_required = "consultations.view_consultation"
    template_name = "consultations/recommendations.html"

    def get_context_data(self, **kwargs):
        consultation = selectors.consultation_summary_get(user=self.request.user,
                                                          pk=self.kwargs["pk"])
        return super().get_context_data(
            consultation=consultation, patient=consultation.patient,
            body=recommendation_section(consultation), **kwargs)


class PlanCreateView(PermissionRequiredMixin, View):
    permission_required = "consultations.add_treatmentplan"

    def post(self, request, pk):
        consultation = selectors.consultation_get(user=request.user, pk=pk)
        try:
            plan = plan_create(user=request.user, consultation=consultation)
        except PlanRuleError as error:
            messages.error(request, error.message)
            return redirect("consultations:consultation-recommendations", pk=pk)
        messages.success(request, _("Draft plan started: add procedures from the recommendation."))
        return redirect("consultations:plan-detail", pk=plan.pk)


# How each move a plan's state allows is offered on its page (sharing has its own form).
MOVE_BUTTONS = {
    TreatmentPlan.Status.ACCEPTED: (_lazy("Record the patient's acceptance"), "btn-primary"),
    TreatmentPlan.Status.DRAFT: (_lazy("Back to draft"), "btn-outline-secondary"),
    TreatmentPlan.Status.WITHDRAWN: (_lazy("Withdraw"), "btn-outline-danger"),
}
REOPEN = (_lazy("Reopen the plan to change it"), "btn-outline-primary")


def plan_move_buttons(plan):
    """(state, label, button style, whether a reason must be given) for each allowed move."""
    buttons = []
    for to in plan_moves(plan):
        if to not in MOVE_BUTTONS:
            continue
        label, style = (REOPEN if to == TreatmentPlan.Status.DRAFT
                        and plan.status == TreatmentPlan.Status.ACCEPTED else MOVE_BUTTONS[to])
        buttons.append((to, label, style, plan_reason_needed(plan, to)))
    return buttons


class PlanDetailView(PermissionRequiredMixin, TemplateView):
    permission_required = "consultations.view_treatmentplan"
    template_name = "consultations/plan_detail.html"

    def get_context_data(self, **kwargs):
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        checks = selectors.plan_checks(plan)
        pending = plan_recheck(plan=plan, checks=checks)
        rows = [{"procedure": procedure, "check": checks.get(procedure.pk),
                 "new_flags": pending.get(procedure.pk), "needs_review": procedure.pk in pending}
                for procedure in plan.procedures.all()]
        planned = {procedure.treatment.code for procedure in plan.procedures.all()}
        start = selectors.treatment_day(plan.consultation)
        recommendation = selectors.consultation_recommendation(plan.consultation, as_of=start)
        return super().get_context_data(
            plan=plan, consultation=plan.consultation, patient=plan.consultation.patient,
            rows=rows, needs_review=bool(pending), labels=catalogue_labels(), start=start,
            sources=sources_by_key({key for row in rows if row["check"]
                                    for flag in row["check"].flags for key in flag.sources}),
            suggestions=[r for r in recommendation.recommended if r.code not in planned],
            later=[r for r in recommendation.excluded
                   if r.suitable_from and not r.referral and r.code not in planned],
            moves=plan_move_buttons(plan),
            consents=consent_states(plan, list(plan.procedures.all())),
            status_changes=plan.status_changes.select_related("changed_by")[:20],
            new_link=self.request.session.pop(f"new-plan-link-{plan.pk}", None),
            links=plan.links.select_related("created_by").order_by("-created_at")[:10],
            questions=plan.questions.select_related("answered_by")[:50],
            answer_draft=self.request.session.pop("answer-draft", None),
            **kwargs)


class PlanPreviewView(PermissionRequiredMixin, TemplateView):
    """Exactly what the patient's page will show, in the patient's language, before it is
    shared (or as it stands)."""

    permission_required = "consultations.view_treatmentplan"
    template_name = "consultations/plan_preview.html"

    def get_context_data(self, **kwargs):
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        patient = plan.consultation.patient
        on_hold = frozenset(plan_recheck(plan=plan))
        language = patient.clinic.page_language(patient.preferred_language)
        with translation.override(language):
            body = patient_plan_body(plan, language, on_hold)
        return super().get_context_data(
            plan=plan, patient=patient, body=body, language=dict(
                Patient.Language.choices).get(patient.preferred_language), **kwargs)


class PlanProcedureFormView(PermissionRequiredMixin, FormView):
    """Sessions, dates and notes of one procedure in a plan, checked by the engine on each
    session day when saved."""

    permission_required = "consultations.change_treatmentplan"
    form_class = PlannedProcedureForm
    template_name = "consultations/plan_procedure_form.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.has_perms(
                self.get_permission_required()):
            self.plan = selectors.plan_get(user=request.user, pk=kwargs["pk"])
            self.procedure = self.get_procedure()
            self.treatment = self.get_treatment()
            self.start = selectors.treatment_day(self.plan.consultation)
            self.result = selectors.course_check(
                self.plan.consultation, self.treatment.code,
                self.procedure.proposed_dates() if self.procedure else ())
        return super().dispatch(request, *args, **kwargs)

    def get_procedure(self):
        return None

    def get_treatment(self):
        code = self.request.GET.get("treatment") or self.request.POST.get("treatment") or ""
        if not typed_text_storable(code):
            raise Http404  # no treatment's code holds a NUL (nor can the database look it up)
        return get_object_or_404(Treatment, code=code, active=True)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "consultation": self.plan.consultation}

    def get_context_data(self, **kwargs):
        flags = self.result.flags if self.result else ()
        return super().get_context_data(
            plan=self.plan, treatment=self.treatment, check=self.result, flags=flags,
            procedure=self.procedure, patient=self.plan.consultation.patient,
            start=self.start, labels=catalogue_labels(),
            sources=sources_by_key({key for flag in flags for key in flag.sources}), **kwargs)

    def redirect_to_plan(self, message):
        messages.success(self.request, message)
        return redirect("consultations:plan-detail", pk=self.plan.pk)


class PlanProcedureAddView(PlanProcedureFormView):
    def get_initial(self):
        # A procedure possible only later starts on the first day it becomes possible.
        if self.result and self.result.possible_from and self.result.possible_from > self.start:
            return {"first_date": self.result.possible_from}
        return {}

    def form_valid(self, form):
        try:
            plan_procedure_add(user=self.request.user, plan=self.plan, treatment=self.treatment,
                               **form.cleaned_data)
        except PlanRuleError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            return self.form_invalid(form)
        return self.redirect_to_plan(_("%(name)s added to the plan.") % {
            "name": self.treatment.name})


class PlanProcedureEditView(PlanProcedureFormView):
    """Move a planned procedure's dates or change its sessions: the new days are checked."""

    def get_procedure(self):
        return get_object_or_404(self.plan.procedures.all(), pk=self.kwargs["procedure_pk"])

    def get_treatment(self):
        return self.procedure.treatment

    def get_initial(self):
        return {"sessions": self.procedure.sessions,
                "interval_weeks": self.procedure.interval_weeks,
                "first_date": self.procedure.first_date, "notes": self.procedure.notes,
                "patient_note": self.procedure.patient_note}

    def form_valid(self, form):
        try:
            plan_procedure_reschedule(user=self.request.user, plan=self.plan,
                                      procedure=self.procedure, **form.cleaned_data)
        except PlanRuleError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
            return self.form_invalid(form)
        return self.redirect_to_plan(_("%(name)s: sessions saved and checked.") % {
            "name": self.treatment.name})


class PlanProcedureRemoveView(PermissionRequiredMixin, View):
    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk, procedure_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        procedure = get_object_or_404(plan.procedures.all(), pk=procedure_pk)
        try:
            plan_procedure_remove(user=request.user, plan=plan, procedure=procedure)
        except PlanRuleError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("%(name)s removed from the plan.") % {
                "name": procedure.treatment.name})
        return redirect("consultations:plan-detail", pk=pk)


class PlanStatusView(PermissionRequiredMixin, View):
    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        to, reason = request.POST.get("to", ""), request.POST.get("reason", "")[:2000]
        try:
            plan_status_change(user=request.user, plan=plan, to=to, reason=reason)
        except PlanRuleError as error:
            if error.field == "reason":
                # Shown beside the reason box on the plan page, with what was typed.
                page = PlanDetailView(request=request, kwargs={"pk": pk}, args=())
                return page.render_to_response(page.get_context_data(
                    move_error={"to": to, "message": error.message, "reason": reason}))
            messages.error(request, error.message)
        else:
            messages.success(request, _("The plan is now %(status)s.") % {
                "status": plan.get_status_display().lower()})
        return redirect("consultations:plan-detail", pk=pk)


class PlanReviewView(PermissionRequiredMixin, TemplateView):
    """Re-review after an intake edit, a catalogue change or the passing days gave planned
    procedures new flags."""

    permission_required = "consultations.change_treatmentplan"
    template_name = "consultations/plan_review.html"

    def get_context_data(self, errors=None, **kwargs):
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        checks = selectors.plan_checks(plan)
        pending = selectors.plan_review_needed(plan, checks)
        rows = [{"procedure": p, "check": checks.get(p.pk), "new_flags": pending.get(p.pk, []),
                 "cautioned": bool(checks.get(p.pk) and caution_codes(checks[p.pk].flags)),
                 "text": self.request.POST.get(f"justification_{p.pk}", ""),
                 "error": (errors or {}).get(p.pk)}
                for p in plan.procedures.all()]
        return super().get_context_data(
            plan=plan, patient=plan.consultation.patient, rows=rows,
            justification_max_length=PlannedProcedure.JUSTIFICATION_MAX_LENGTH, **kwargs)

    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        justifications = {p.pk: request.POST.get(f"justification_{p.pk}", "")
                          for p in plan.procedures.all()}
        try:
            plan_review(user=request.user, plan=plan, justifications=justifications)
        except PlanReviewError as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(errors=error.errors))
        except PlanRuleError as error:
            messages.error(request, error.message)
            return redirect("consultations:plan-detail", pk=pk)
        messages.success(request, _("Plan reviewed against the current intake and catalogue."))
        return redirect("consultations:plan-detail", pk=pk)


class PlanQuestionAnswerView(PermissionRequiredMixin, View):
    """Answer a patient's question, from the inbox or the plan page (`next` says which)."""

    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk, question_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        question = get_object_or_404(plan.questions.all(), pk=question_pk)
        answer = request.POST.get("answer", "")[:4000]
        try:
            plan_question_answer(user=request.user, question=question, answer=answer)
        except PlanRuleError as error:
            request.session["answer-draft"] = {"question": question.pk, "text": answer,
                                               "error": error.message}
        else:
            messages.success(request, _("Answer sent: the patient sees it on their page."))
        if request.POST.get("next") == "inbox":
            return redirect(reverse("clinic:home") + f"#question-{question.pk}")
        return redirect(reverse("consultations:plan-detail", args=[pk]) +
                        f"#question-{question.pk}")


class PlanAcceptanceSeenView(PermissionRequiredMixin, View):
    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        plan_acceptance_acknowledge(user=request.user, plan=plan)
        return redirect(reverse("clinic:home") + "#inbox")


class PlanConsentHandoverView(PermissionRequiredMixin, TemplateView):
    """In-clinic consent: the clinician hands their screen to the patient. Until it is
    handed back (with the clinician's password), the screen shows only the consent page."""

    permission_required = "consultations.change_treatmentplan"
    template_name = "consultations/consent_handover.html"

    def get_context_data(self, **kwargs):
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        procedure = get_object_or_404(plan.procedures.all(), pk=self.kwargs["procedure_pk"])
        return super().get_context_data(plan=plan, procedure=procedure,
                                        patient=plan.consultation.patient, **kwargs)

    def post(self, request, pk, procedure_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        procedure = get_object_or_404(plan.procedures.all(), pk=procedure_pk)
        request.session[HANDOVER] = {"plan": plan.pk, "procedure": procedure.pk,
                                     "signed": None}
        return redirect("consultations:plan-consent-sign", pk=plan.pk, procedure_pk=procedure.pk)


class PlanConsentSignView(PermissionRequiredMixin, View):
    """The consent page on the clinic's screen, in the patient's language, without staff
    navigation, reached only through the hand-over."""

    permission_required = "consultations.change_treatmentplan"

    def get(self, request, pk, procedure_pk):
        return self.page(request, pk, procedure_pk)

    def post(self, request, pk, procedure_pk):
        return self.page(request, pk, procedure_pk)

    def page(self, request, pk, procedure_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        procedure = get_object_or_404(plan.procedures.select_related("treatment"),
                                      pk=procedure_pk)
        if (request.session.get(HANDOVER) or {}).get("procedure") != procedure.pk:
            # Only through the hand-over step, which hides the staff pages.
            return redirect("consultations:plan-consent", pk=pk, procedure_pk=procedure_pk)
        patient = plan.consultation.patient
        language = patient.clinic.page_language(patient.preferred_language)
        with translation.override(language):
            response, signed = consent_form(
                request, plan=plan, procedure=procedure, language=language,
                handed_over_by=request.user, extra={
                    "handover": True, "back_url": reverse(
                        "consultations:plan-consent-handback", args=[plan.pk])})
        if signed is None:
            return response
        request.session[HANDOVER] = {**request.session[HANDOVER], "signed": signed.pk}
        return redirect("consultations:plan-consent-handback", pk=plan.pk)


class ConsentHandbackView(PermissionRequiredMixin, TemplateView):
    """After signing on the clinic's screen: the clinician takes it back with their
    password, and the staff pages return."""

    permission_required = "consultations.change_treatmentplan"
    template_name = "consultations/consent_handback.html"

    def get_context_data(self, **kwargs):
        plan = selectors.plan_get(user=self.request.user, pk=self.kwargs["pk"])
        handover = self.request.session.get(HANDOVER) or {}
        return super().get_context_data(handover=handover,
                                        clinic=plan.consultation.patient.clinic, **kwargs)

    def post(self, request, pk):
        selectors.plan_get(user=request.user, pk=pk)
        if not request.user.check_password(request.POST.get("password", "")):
            audit("handback", user=request.user, object_type="treatmentplan", object_id=pk,
                  outcome=AuditEvent.Outcome.DENIED)
            return self.render_to_response(self.get_context_data(
                error=_("That is not your password. Only the clinician who handed the screen "
                        "over can take it back.")))
        request.session.pop(HANDOVER, None)
        messages.success(request, _("Welcome back: the patient's consent is recorded."))
        return redirect("consultations:plan-detail", pk=pk)


class PlanConsentPdfView(PermissionRequiredMixin, View):
    permission_required = "consultations.view_treatmentplan"

    def get(self, request, pk, consent_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        consent = get_object_or_404(plan.consents.select_related(
            "plan__consultation__patient__clinic"), pk=consent_pk)
        audit("consent_pdf", plan, user=request.user, patient=plan.consultation.patient)
        with translation.override(consent.language):
            return consent_pdf_response(request, consent)


class ConsentSeenView(PermissionRequiredMixin, View):
    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk, consent_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        consent_seen(user=request.user, consent=get_object_or_404(plan.consents.all(),
                                                                  pk=consent_pk))
        return redirect(reverse("clinic:home") + "#inbox")


class PlanShareView(PermissionRequiredMixin, View):
    """Share the plan: a new personal link, shown to the clinician once (only its hash is
    kept) and emailed to the patient when asked."""

    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk):
        plan = selectors.plan_get(user=request.user, pk=pk)

        def link_url(token):
            return request.build_absolute_uri(reverse("patients:plan", kwargs={"token": token}))

        try:
            link, token = plan_share(user=request.user, plan=plan, link_url=link_url,
                                     email=request.POST.get("email") == "on")
        except PlanRuleError as error:
            messages.error(request, error.message)
            return redirect("consultations:plan-detail", pk=pk)
        request.session[f"new-plan-link-{plan.pk}"] = link_url(token)
        if link.emailed_to:
            messages.success(request, _("The link is being emailed to %(email)s.") % {
                "email": link.emailed_to})
        return redirect("consultations:plan-detail", pk=pk)


class PlanLinkRevokeView(PermissionRequiredMixin, View):
    permission_required = "consultations.change_treatmentplan"

    def post(self, request, pk, link_pk):
        plan = selectors.plan_get(user=request.user, pk=pk)
        link = get_object_or_404(plan.links.all(), pk=link_pk)
        plan_share_link_revoke(user=request.user, link=link)
        messages.success(request, _("The link no longer works. Share again to make a new one."))
        return redirect("consultations:plan-detail", pk=pk)
