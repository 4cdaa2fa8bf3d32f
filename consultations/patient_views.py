"""The patient's own plan page, reached from their personal link: no sign-in, but a date of
birth before anything is shown, nothing cached, no referrer sent, no patient data in URLs."""

import datetime
from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.db.models import prefetch_related_objects
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from clinic.audit import audit
from clinic.models import AuditEvent
from consultations.consent import (
    MAX_SIGNATURE_BYTES,
    ConsentError,
    consent_document,
    consent_sign,
    consent_states,
)
from consultations.models import SignedConsent, TreatmentPlan
from consultations.patient_plan import first_name, patient_plan_body, patient_plan_page
from consultations.plan_services import (
    PATIENT_VISIBLE_STATES,
    DateOfBirthCheck,
    PlanRuleError,
    plan_accept_by_patient,
    plan_link_check_date_of_birth,
    plan_question_ask,
    plan_recheck,
    token_hash,
)
from consultations.selectors import plan_for_link, procedures_prefetched
from treatments.translations import translator

# Each language named in itself, as language switchers do.
LANGUAGES = dict(settings.LANGUAGES)


class DateOfBirthForm(forms.Form):
    date_of_birth = forms.DateField(
        label=gettext_lazy("Your date of birth"),
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )


class QuestionForm(forms.Form):
    message = forms.CharField(label=gettext_lazy("Your question"), max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))


def patient_page(view):
    """No sign-in; never cached; no referrer; not indexed."""

    @login_not_required
    @never_cache
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cache-Control"] = "no-store, max-age=0"
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapped


def session_key(link):
    return f"plan-link-{link.pk}"


def visit_is_confirmed(request, link):
    confirmed = request.session.get(session_key(link))
    if not confirmed:
        return False
    since = datetime.datetime.fromisoformat(confirmed)
    return timezone.now() - since < datetime.timedelta(minutes=settings.PLAN_LINK_VISIT_MINUTES)


def page_language(request, link):
    """The patient's chosen (or preferred) language, written in the clinic's locale."""
    chosen = request.session.get(f"{session_key(link)}-language")
    patient = link.plan.consultation.patient
    return patient.clinic.page_language(chosen if chosen in LANGUAGES
                                        else patient.preferred_language)


def unavailable(request, state, status):
    return render(request, "patients/link_unavailable.html", {"state": state}, status=status)


def open_link(token):
    """The link for a token, or None when no link has that token."""
    return plan_for_link(token_hash(token)) if token else None


def with_link(view):
    """Find the link, refuse unusable ones, and render in the patient's language."""

    @wraps(view)
    def wrapped(request, token, *args, **kwargs):
        link = open_link(token)
        if link is None:
            audit("open_link", object_type="plan link", outcome=AuditEvent.Outcome.DENIED,
                  actor_label="unknown link")
            return unavailable(request, "unknown", 404)
        state = link.state()
        if state != "active":
            audit("open_link", link.plan, patient=link.plan.consultation.patient,
                  actor_label=f"patient link #{link.pk}", outcome=AuditEvent.Outcome.DENIED)
            return unavailable(request, state, 410)
        if link.plan.status == TreatmentPlan.Status.DRAFT and link.plan.reopened_at:
            with translation.override(page_language(request, link)):
                return render(request, "patients/plan_updating.html", {
                    "clinic": link.plan.consultation.patient.clinic, "token": token,
                    "languages": LANGUAGES, "language": translation.get_language()})
        if link.plan.status not in PATIENT_VISIBLE_STATES:
            return unavailable(request, "closed", 410)
        with translation.override(page_language(request, link)):
            return view(request, link, token, *args, **kwargs)

    return wrapped


@patient_page
@require_http_methods(["GET", "POST"])
@with_link
def plan_page(request, link, token):
    if "lang" in request.GET:
        if request.GET["lang"] in LANGUAGES:
            request.session[f"{session_key(link)}-language"] = request.GET["lang"]
        return redirect("patients:plan", token=token)
    if not visit_is_confirmed(request, link):
        return date_of_birth_gate(request, link, token)
    audit("view", link.plan, patient=link.plan.consultation.patient,
          actor_label=f"patient link #{link.pk}")
    return plan_page_response(request, link, token, QuestionForm(),
                              message=request.session.pop("patient-message", None))


def procedures_on_hold(plan):
    """The planned procedures the clinic must review before the patient goes ahead."""
    prefetch_related_objects([plan], procedures_prefetched("procedures"))
    return frozenset(plan_recheck(plan=plan))


def consent_rows(plan, on_hold):
    """Each planned procedure with a consent text, and where its consent stands."""
    procedures = list(plan.procedures.all())
    states = consent_states(plan, procedures)
    translate = translator(translation.get_language(), [p.treatment for p in procedures])
    return [{"procedure": procedure, "name": translate(procedure.treatment, "name"),
             "state": states[procedure.pk][0], "signed": states[procedure.pk][1],
             "on_hold": procedure.pk in on_hold}
            for procedure in procedures if states[procedure.pk][0] != "none"]


def plan_page_response(request, link, token, question_form, message=None):
    plan = link.plan
    patient = plan.consultation.patient
    on_hold = procedures_on_hold(plan)
    return render(request, "patients/plan.html", {
        "plan": plan, "clinic": patient.clinic, "first_name": first_name(patient),
        "body": patient_plan_body(plan, translation.get_language(), on_hold),
        "under_review": bool(on_hold),
        "questions": plan.questions.order_by("asked_at", "id")[:50],
        "consents": consent_rows(plan, on_hold),
        "token": token, "question_form": question_form, "message": message,
        "languages": LANGUAGES, "language": translation.get_language(),
    })


def date_of_birth_gate(request, link, token):
    form = DateOfBirthForm(request.POST or None)
    clinic = link.plan.consultation.patient.clinic
    if request.method == "POST" and form.is_valid():
        outcome, wait = plan_link_check_date_of_birth(
            link=link, date_of_birth=form.cleaned_data["date_of_birth"])
        if outcome == DateOfBirthCheck.ACCEPTED:
            request.session.cycle_key()
            request.session[session_key(link)] = timezone.now().isoformat()
            return redirect("patients:plan", token=token)
        if outcome in (DateOfBirthCheck.LOCKED, DateOfBirthCheck.REVOKED,
                       DateOfBirthCheck.EXPIRED, DateOfBirthCheck.CLOSED):
            return unavailable(request, outcome, 410)
        if outcome == DateOfBirthCheck.WAIT:
            form.add_error("date_of_birth", _(
                "Please wait %(seconds)d seconds before trying again.") % {"seconds": wait})
        else:
            link.refresh_from_db()
            left = settings.PLAN_LINK_MAX_ATTEMPTS - link.failed_attempts
            form.add_error("date_of_birth", _(
                "That date of birth does not match our records. %(left)d tries left before "
                "this link locks.") % {"left": left})
    return render(request, "patients/date_of_birth.html", {
        "form": form, "clinic": clinic, "languages": LANGUAGES, "token": token,
        "language": translation.get_language()}, status=200)


@patient_page
@require_POST
@with_link
def accept_plan(request, link, token):
    if not visit_is_confirmed(request, link):
        return redirect("patients:plan", token=token)
    try:
        plan_accept_by_patient(link=link)
    except PlanRuleError as error:
        request.session["patient-message"] = error.message
    else:
        request.session["patient-message"] = _("Thank you: your acceptance has been recorded.")
    return redirect(reverse("patients:plan", kwargs={"token": token}) + "#accept")


@patient_page
@require_POST
@with_link
def ask_question(request, link, token):
    if not visit_is_confirmed(request, link):
        return redirect("patients:plan", token=token)
    form = QuestionForm(request.POST)
    if form.is_valid():
        try:
            plan_question_ask(link=link, message=form.cleaned_data["message"])
        except PlanRuleError as error:
            form.add_error("message", error.message)
        else:
            request.session["patient-message"] = _("Your question has been sent to the "
                                                   "clinic.")
            return redirect(reverse("patients:plan", kwargs={"token": token}) + "#question")
    return plan_page_response(request, link, token, form)


@patient_page
@require_http_methods(["GET"])
@with_link
def plan_pdf(request, link, token):
    if not visit_is_confirmed(request, link):
        return redirect("patients:plan", token=token)
    page = patient_plan_page(link.plan, translation.get_language(),
                             procedures_on_hold(link.plan))
    audit("pdf", link.plan, patient=page["patient"], actor_label=f"patient link #{link.pk}")
    html = render_to_string("patients/plan_pdf.html", {**page, "generated": timezone.now()},
                            request=request)
    return pdf_response(request, html, "treatment-plan.pdf", {"token": token})


def pdf_response(request, html, filename, unavailable_context):
    """The printed page as a PDF download, or the 'PDF unavailable' page where WeasyPrint
    cannot run."""
    try:
        from weasyprint import CSS, HTML
    except (ImportError, OSError):
        return render(request, "patients/pdf_unavailable.html", unavailable_context,
                      status=503)
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(
        stylesheets=[CSS(filename=finders.find("css/plan-print.css"))])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- Consent ---------------------------------------------------------------------------------

def consent_form(request, *, plan, procedure, language, link=None, handed_over_by=None,
                 extra=None):
    """The consent page for one planned procedure, and its signing: (response, signed).
    Shared by the patient's own link and the clinician's hand-over on a clinic screen."""
    document = consent_document(procedure, language)
    if document is None:
        return render(request, "patients/link_unavailable.html", {"state": "closed", **(
            extra or {})}, status=404), None
    values, errors, form_error = {}, {}, None
    if request.method == "POST":
        values = {"typed_name": request.POST.get("typed_name", "")[:200],
                  "agreed": request.POST.get("agreed") == "on",
                  "typed_only": request.POST.get("typed_only") == "on",
                  "signature": request.POST.get("signature", "")[:MAX_SIGNATURE_BYTES]}
        try:
            signed = consent_sign(
                request=request, plan=plan, procedure=procedure, language=language,
                typed_name=values["typed_name"], agreed=values["agreed"],
                signature=values["signature"], typed_only=values["typed_only"],
                shown_sha256=request.POST.get("shown", ""), link=link,
                handed_over_by=handed_over_by)
        except ConsentError as error:
            if error.field:
                errors[error.field] = error.message
            else:
                form_error = error.message
            document = consent_document(procedure, language)  # read again if it changed
        else:
            return None, signed
    return render(request, "patients/consent.html", {
        "clinic": plan.consultation.patient.clinic, "document": document,
        "treatment_name": document["text"].split("\n", 1)[0], "values": values,
        "errors": errors, "form_error": form_error or (
            _("Please correct the answers marked below.") if errors else None),
        **(extra or {})}), None


@patient_page
@require_http_methods(["GET", "POST"])
@with_link
def consent_page(request, link, token, procedure_pk):
    if not visit_is_confirmed(request, link):
        return redirect("patients:plan", token=token)
    plan = link.plan
    procedure = plan.procedures.select_related("treatment").filter(pk=procedure_pk).first()
    if procedure is None:
        return unavailable(request, "unknown", 404)
    response, signed = consent_form(
        request, plan=plan, procedure=procedure, language=translation.get_language(),
        link=link, extra={"token": token, "languages": LANGUAGES, "language": translation.get_language(),
               "back_url": reverse("patients:plan", kwargs={"token": token})})
    if signed is None:
        return response
    request.session["patient-message"] = _("Thank you: your consent has been recorded. You "
                                           "can download a copy below.")
    return redirect(reverse("patients:plan", kwargs={"token": token}) + "#consents")


def consent_pdf_response(request, consent):
    html = render_to_string("patients/consent_pdf.html", {
        "consent": consent, "clinic": consent.plan.consultation.patient.clinic},
        request=request)
    return pdf_response(request, html, f"consent-{consent.pk}.pdf", {})


@patient_page
@require_http_methods(["GET"])
@with_link
def consent_pdf(request, link, token, consent_pk):
    if not visit_is_confirmed(request, link):
        return redirect("patients:plan", token=token)
    consent = (SignedConsent.objects.filter(plan=link.plan, pk=consent_pk)
               .select_related("plan__consultation__patient__clinic").first())
    if consent is None:
        return unavailable(request, "unknown", 404)
    audit("consent_pdf", link.plan, patient=link.plan.consultation.patient,
          actor_label=f"patient link #{link.pk}")
    with translation.override(consent.language):
        return consent_pdf_response(request, consent)
