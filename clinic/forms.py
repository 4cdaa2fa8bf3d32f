from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from clinic.sign_in_protection import sign_in_wait_seconds

USERNAME_MAX_LENGTH = get_user_model()._meta.get_field("username").max_length


class SignInForm(AuthenticationForm):
    """Staff sign-in. A username longer than any account's, or text with a null character,
    is answered next to its field before any account is looked up or any failure recorded;
    while an account is under attack, an unknown device is told how long to wait."""

    error_messages = {
        "invalid_login": _(
            "That username and password do not match an account. Both are case-sensitive."
        ),
        "inactive": _("This account is disabled. Ask your clinic's administrator."),
        "wait": ngettext_lazy(
            "There have been many failed sign-ins to this account just now, so sign-ins "
            "from a new device are slowed down. Try again in %(seconds)d second, or sign "
            "in from a device you have used before.",
            "There have been many failed sign-ins to this account just now, so sign-ins "
            "from a new device are slowed down. Try again in %(seconds)d seconds, or sign "
            "in from a device you have used before.",
            "seconds",
        ),
    }

    username = UsernameField(
        max_length=USERNAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autofocus": True}),
        error_messages={
            "max_length": _("No username is longer than %(limit_value)d characters. Check "
                            "what was typed or pasted here."),
            "null_characters_not_allowed": _("A username cannot contain a null character. "
                                             "Type it again rather than pasting it."),
        },
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(),
        error_messages={
            "null_characters_not_allowed": _("A password cannot contain a null character. "
                                             "Type it again rather than pasting it."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="w-100"))

    def clean(self):
        username = self.cleaned_data.get("username")
        if username is not None and self.cleaned_data.get("password"):
            seconds = sign_in_wait_seconds(request=self.request, username=username)
            if seconds:
                raise forms.ValidationError(self.error_messages["wait"], code="wait",
                                            params={"seconds": seconds})
        return super().clean()


class EnrolmentCodeForm(forms.Form):
    """The one-time code a superuser gave the staff member to link their authenticator."""

    error_messages = {"required": _("Enter the enrolment code your clinic's administrator "
                                    "gave you.")}

    enrolment_code = forms.CharField(
        label=_("Enrolment code"), max_length=40, strip=True,
        help_text=_("Letters and digits in groups of four, for example ABCD-EFGH-JK23."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                      "spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enrolment_code"].error_messages["required"] = self.error_messages["required"]
