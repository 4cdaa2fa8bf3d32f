import base64

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.forms import SignInForm
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
                                      "6 digits your authenticator app shows now.")}

    code = forms.CharField(label=_("6-digit code"), max_length=8, min_length=6,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))

    def __init__(self, *args, device=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device, self.user = device, user

    def clean_code(self):
        code = "".join(self.cleaned_data["code"].split())
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
    """Second step of signing in: the code from the staff member's authenticator app."""
    if not any(True for _device in devices_for_user(request.user)):
        return redirect("clinic:two-factor-setup")
    form = TwoFactorForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.matched)
        return redirect(safe_next(request))
    return render(request, "clinic/two_factor.html", {"form": form,
                                                      "next": request.GET.get("next", "")})


def two_factor_setup(request):
    """First sign-in where two-factor is required: link an authenticator app."""
    if any(True for _device in devices_for_user(request.user)):
        return redirect("clinic:two-factor")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "Authenticator app"})
    form = TwoFactorForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        otp_login(request, device)
        return redirect(safe_next(request))
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    return render(request, "clinic/two_factor_setup.html", {
        "form": form, "qr_svg": image.to_string(encoding="unicode"),
        "secret": base64.b32encode(device.bin_key).decode(),
    })
