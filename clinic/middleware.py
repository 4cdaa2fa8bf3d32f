import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.middleware.csrf import CsrfViewMiddleware
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from clinic.errors import DATABASE_ERRORS, database_unavailable
from clinic.request_context import (
    caller_request_id,
    new_request_id,
    request_context_reset,
    request_context_set,
)

logger = logging.getLogger(__name__)

PATIENT_PAGES = "/p/"
PENDING_INTAKE = "pending-intake"
HANDOVER = "consent-handover"  # the session holds it while a patient has the screen
ACTIVITY_RESOLUTION = 60
# Pages whose submitted form is kept when the session has expired, to be offered back.
KEPT_ON_EXPIRY = {"consultations:consultation-create", "consultations:consultation-edit"}


class RequestContextMiddleware:
    """Gives each request the server's own id (echoed in X-Request-ID), keeps the caller's
    X-Request-ID apart, and makes the request available to the audit trail and the logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = new_request_id(request)
        request.client_request_id = caller_request_id(request)
        token = request_context_set(request)
        try:
            response = self.get_response(request)
        finally:
            request_context_reset(token)
        response["X-Request-ID"] = request.request_id
        return response


class NulInAddressMiddleware:
    """An address with a NUL character in its path or its query names no page of this app,
    and the database refuses to look such text up: it gets a plain 400 page at once, before
    any view or lookup runs (forms refuse it in what is typed, beside the field)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or any(
                "\x00" in key or any("\x00" in value for value in values)
                for key, values in request.GET.lists()):
            return HttpResponseBadRequest(render_to_string("400.html"))
        return self.get_response(request)


class PatientPageOriginMiddleware:
    """Lets the patient plan pages' own forms through Django's CSRF origin check.

    Those pages send no referrer (their address holds the patient's token), so browsers
    send "Origin: null" with the page's own forms. For those pages only, a null origin is
    read as the site's own; Django's CsrfViewMiddleware, next in line, still requires the
    CSRF token (cookie and form field), which is what proves the form is ours.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.META.get("HTTP_ORIGIN") == "null" and request.path.startswith(PATIENT_PAGES):
            request.META["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"
        return self.get_response(request)


def url_name(request):
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


def form_kept_for_later(request, user_id):
    """On an intake submitted after the session ended, keep what was typed (when the form's
    CSRF token is valid) so that it can be offered back after signing in again."""
    if request.method != "POST" or url_name(request) not in KEPT_ON_EXPIRY:
        return None
    if CsrfViewMiddleware(lambda r: None).process_view(request, lambda r: None, (), {}):
        return None  # not our form: keep nothing
    return {"path": request.path, "user": user_id, "data": dict(request.POST.lists()),
            "kept_at": time.time()}


class SessionTimeoutMiddleware:
    """Signs staff out after SESSION_IDLE_SECONDS without activity and SESSION_MAX_SECONDS
    after signing in. An intake submitted just then is kept for after the next sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(PATIENT_PAGES):
            return self.get_response(request)
        now = time.time()
        user = request.user
        if user.is_authenticated:
            started = request.session.setdefault("signed-in-at", now)
            last = request.session.setdefault("last-activity", now)
            if now - last > settings.SESSION_IDLE_SECONDS or now - started > settings.SESSION_MAX_SECONDS:
                kept = form_kept_for_later(request, user.pk)
                logout(request)
                if kept:
                    request.session[PENDING_INTAKE] = kept
                messages.info(request, _("Your session ended, so you were signed out. Sign in "
                                         "again to continue."))
                return redirect_to_login(request.get_full_path())
            if now - last > ACTIVITY_RESOLUTION:
                # Noted once a minute, not on every request: it is a session write.
                request.session["last-activity"] = now
        else:
            kept = form_kept_for_later(request, None)
            if kept:
                request.session[PENDING_INTAKE] = kept
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """Where REQUIRE_TWO_FACTOR is on, a signed-in staff member must confirm a TOTP code or
    a backup code (or link an authenticator first, with an enrolment code or link) before
    any staff page."""

    ALLOWED = {"clinic:two-factor", "clinic:two-factor-setup", "clinic:two-factor-link",
               "clinic:sign-out", "clinic:healthz"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (settings.REQUIRE_TWO_FACTOR and user.is_authenticated and not user.is_verified()
                and not request.path.startswith(PATIENT_PAGES)
                and url_name(request) not in self.ALLOWED):
            return redirect("clinic:two-factor")
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """While the database is unreachable (a restart, a failover), answer with a plain 503
    page that says nothing was saved, instead of a generic error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DATABASE_ERRORS):
            logger.error("Database unavailable: %s", type(exception).__name__)
            return database_unavailable()
        return None


class ConsentHandoverMiddleware:
    """While a clinician's screen is handed to a patient to sign a consent, it shows only
    the consent page and the hand-back page: any other staff page leads back there."""

    ALLOWED = {"consultations:plan-consent-sign", "consultations:plan-consent-handback",
               "clinic:sign-out"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        handover = request.session.get(HANDOVER) if hasattr(request, "session") else None
        if handover and request.user.is_authenticated and not request.path.startswith(
                (settings.STATIC_URL or "/static/", PATIENT_PAGES)):
            try:
                name = resolve(request.path_info).view_name
            except Resolver404:
                name = ""
            if name not in self.ALLOWED:
                if handover.get("signed"):
                    return redirect("consultations:plan-consent-handback", pk=handover["plan"])
                return redirect("consultations:plan-consent-sign", pk=handover["plan"],
                                procedure_pk=handover["procedure"])
        return self.get_response(request)


class SignedInNoStoreMiddleware:
    """Nothing a signed-in person is shown is kept by a browser or a proxy: every response
    to a signed-in request says no-store (patient pages already do, whoever asks)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
