import base64

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.forms import EnrolmentCodeForm, SignInForm
from clinic.models import EnrolmentCode
from clinic.services import (
    EnrolmentError,
    authenticator_confirm,
    authenticator_enrolment_start,
    backup_codes_regenerate,
)
from clinic.sign_in_protection import known_device_remember


class SignInView(auth_views.LoginView):
    template_name = "clinic/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        known_device_remember(request=self.request, response=response,
                              username=form.get_user().get_username())
        return response


class SignOutView(auth_views.LogoutView):
    pass


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and monitors: 200 when the database answers, 503 when not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


class TwoFactorForm(forms.Form):
    error_messages = {"wrong_code": _("That code is not right, or has expired. Enter the "
                                      "6 digits your authenticator app shows now, or one of "
                                      "your backup codes.")}

    code = forms.CharField(label=_("Code"), max_length=20, min_length=6,
                           help_text=_("The 6 digits your authenticator app shows, or one of "
                                       "your backup codes (each works once)."),
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "spellcheck": "false"}))

    def __init__(self, *args, device=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device, self.user = device, user
        if device is not None:  # linking an authenticator: only its own code will do
            self.fields["code"].label = _("6-digit code")
            self.fields["code"].help_text = _("The 6 digits the app shows now.")

    def clean_code(self):
        # Backup codes are written in lower case; authenticator codes are digits.
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if self.device is not None:
            matched = self.device if self.device.verify_token(code) else None
        else:
            matched = match_token(self.user, code)
        if matched is None:
            raise forms.ValidationError(self.error_messages["wrong_code"], code="wrong_code")
        self.matched = matched
        return code


def safe_next(request, default="clinic:home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   require_https=request.is_secure()):
        return target
    return resolve_url(default)


def two_factor(request):
    """Second step of signing in: the code from the staff member's authenticator app, or
    one of their backup codes."""
    if not user_has_device(request.user):
        return redirect("clinic:two-factor-setup")
    form = TwoFactorForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.matched)
        return redirect(safe_next(request))
    return render(request, "clinic/two_factor.html", {"form": form,
                                                      "next": request.GET.get("next", "")})


# The session remembers which new authenticator it began linking (its key was shown once,
# in the answer that began it), so that only this session can confirm it.
PENDING_AUTHENTICATOR = "authenticator-pending"


def pending_authenticator(request):
    device_id = request.session.get(PENDING_AUTHENTICATOR)
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(pk=device_id, user=request.user, confirmed=False).first()


def authenticator_key_page(request, device):
    """The only answer that shows a new authenticator's key: the one that began linking it."""
    request.session[PENDING_AUTHENTICATOR] = device.pk
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return render(request, "clinic/two_factor_setup.html", {
        "step": "scan", "form": TwoFactorForm(device=device),
        "qr_svg": image.to_string(encoding="unicode"),
        "secret": base64.b32encode(device.bin_key).decode(),
        "next": request.POST.get("next", ""),
    })


def two_factor_setup(request):
    """Linking a first authenticator app. A password alone does not do it: the staff member
    enters the one-time enrolment code their administrator gave them (or opens the emailed
    link); the app's key is then shown once, and a code from the app confirms it."""
    if user_has_device(request.user):
        return redirect("clinic:two-factor")
    pending = pending_authenticator(request)
    if request.method == "POST" and (pending is None or "enrolment_code" in request.POST):
        form = EnrolmentCodeForm(request.POST)
        if form.is_valid():
            try:
                device = authenticator_enrolment_start(
                    user=request.user, secret=form.cleaned_data["enrolment_code"])
            except EnrolmentError as error:
                form.add_error("enrolment_code", forms.ValidationError(str(error),
                                                                       code="refused"))
            else:
                return authenticator_key_page(request, device)
        return render(request, "clinic/two_factor_setup.html",
                      {"step": "enrol", "form": form, "next": request.POST.get("next", "")})
    if pending is None:
        return render(request, "clinic/two_factor_setup.html", {
            "step": "enrol", "form": EnrolmentCodeForm(),
            "next": request.GET.get("next", "")})
    form = TwoFactorForm(request.POST or None, device=pending)
    if request.method == "POST" and form.is_valid():
        try:
            codes = authenticator_confirm(user=request.user, device=pending)
        except EnrolmentError as error:
            form.add_error("code", forms.ValidationError(str(error), code="refused"))
        else:
            request.session.pop(PENDING_AUTHENTICATOR, None)
            otp_login(request, pending)
            return render(request, "clinic/backup_codes.html", {
                "codes": codes, "linked": True, "next": safe_next(request)})
    # Reloaded, or a wrong code: the key is not shown again.
    return render(request, "clinic/two_factor_setup.html", {
        "step": "confirm", "form": form,
        "next": request.POST.get("next") or request.GET.get("next", "")})


def two_factor_link(request, token):
    """The emailed enrolment link. Opening it changes nothing (mail scanners open links);
    the staff member, signed in with their password, presses the button to begin."""
    if user_has_device(request.user):
        return redirect("clinic:two-factor")
    error = None
    if request.method == "POST":
        try:
            device = authenticator_enrolment_start(user=request.user, secret=token,
                                                   kind=EnrolmentCode.Kind.LINK)
        except EnrolmentError as refused:
            error = str(refused)
        else:
            return authenticator_key_page(request, device)
    return render(request, "clinic/two_factor_link.html", {"error": error})


def backup_codes(request):
    """New single-use backup codes for a signed-in staff member who has confirmed a code
    in this session; the old ones stop working. Shown once, in the answer that made them."""
    if not request.user.is_verified():
        return redirect_to_login(request.get_full_path(), resolve_url("clinic:two-factor"))
    error = None
    if request.method == "POST":
        try:
            codes = backup_codes_regenerate(user=request.user)
        except EnrolmentError as refused:
            error = str(refused)
        else:
            return render(request, "clinic/backup_codes.html", {
                "codes": codes, "linked": False, "next": resolve_url("clinic:home")})
    backup = StaticDevice.objects.filter(user=request.user).first()
    return render(request, "clinic/backup_codes_new.html", {
        "error": error, "remaining": backup.token_set.count() if backup else 0})
