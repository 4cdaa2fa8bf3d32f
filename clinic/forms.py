from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "That username and password do not match an account. Both are case-sensitive."
        ),
        "inactive": _("This account is disabled. Ask your clinic's administrator."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username"})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="w-100"))


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
