from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_q.models import Failure, OrmQ, Schedule, Success

from clinic.admin_site import HistoryAdmin
from clinic.models import AuditEvent, Clinic, EnrolmentCode, OutgoingEmail, StaffMembership
from clinic.services import (
    EnrolmentError,
    authenticator_reset,
    enrolment_code_issue,
    enrolment_link_send,
)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email"]
    search_fields = ["name", "email"]


class StaffMembershipInline(admin.StackedInline):
    model = StaffMembership
    can_delete = False
    extra = 0
    max_num = 1


class EnrolmentCodeInline(admin.TabularInline):
    """Who gave this account an enrolment code or reset its authenticator, and when."""

    model = EnrolmentCode
    fk_name = "user"
    extra = 0
    can_delete = False
    fields = ["reason", "kind", "issued_by", "issued_at", "expires_at", "used_at", "voided_at"]
    readonly_fields = fields
    verbose_name_plural = _("Two-step sign-in: enrolment codes and resets")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Staff accounts with the clinic they belong to; the role is the group."""

    inlines = [StaffMembershipInline, EnrolmentCodeInline]
    list_display = ["username", "first_name", "last_name", "membership__clinic", "is_active"]
    list_filter = ["groups", "membership__clinic", "is_active", "is_staff"]
    list_select_related = ["membership__clinic"]
    actions = ["issue_enrolment_code", "email_enrolment_link", "reset_authenticator"]

    def has_enrolment_permission(self, request):
        """Only superusers give out enrolment codes and reset authenticators."""
        return request.user.is_superuser

    def codes_page(self, request, title, issued):
        """The codes just issued, shown this once (only their hashes are kept)."""
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.opts,
                   "issued": issued}
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/clinic/enrolment_codes_issued.html", context)

    @admin.action(description=_("Give an enrolment code to link a first authenticator"),
                  permissions=["enrolment"])
    def issue_enrolment_code(self, request, queryset):
        issued = [(account, *enrolment_code_issue(user=request.user, account=account))
                  for account in queryset]
        return self.codes_page(request, _("Enrolment codes"), issued)

    @admin.action(description=_("Email an enrolment link to link a first authenticator"),
                  permissions=["enrolment"])
    def email_enrolment_link(self, request, queryset):
        def link_url(token):
            return request.build_absolute_uri(reverse("clinic:two-factor-link", args=[token]))

        for account in queryset:
            try:
                enrolment = enrolment_link_send(user=request.user, account=account,
                                                link_url=link_url)
            except EnrolmentError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _("Enrolment link emailed to %(email)s.")
                                  % {"email": enrolment.emailed_to}, messages.SUCCESS)

    @admin.action(description=_("Reset a lost authenticator (removes it and its backup "
                                "codes, gives a new enrolment code)"),
                  permissions=["enrolment"])
    def reset_authenticator(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            # Asked first: the staff member cannot sign in until they use the new code.
            context = {**self.admin_site.each_context(request), "opts": self.opts,
                       "title": _("Reset these authenticators?"), "accounts": queryset,
                       "action_checkbox_name": ACTION_CHECKBOX_NAME}
            request.current_app = self.admin_site.name
            return TemplateResponse(request, "admin/clinic/authenticator_reset_confirm.html",
                                    context)
        issued = [(account, *authenticator_reset(user=request.user, account=account))
                  for account in queryset]
        return self.codes_page(request, _("Authenticators reset"), issued)


@admin.register(AuditEvent)
class AuditEventAdmin(HistoryAdmin):
    """The audit trail: browse and filter, never change (the database refuses it too)."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "patient",
                    "outcome", "ip_address", "request_id"]
    list_filter = ["outcome", "action", "object_type", ("actor", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["actor_label", "request_id", "client_request_id", "object_id",
                     "=patient__id"]
    date_hierarchy = "at"
    list_select_related = ["patient"]


@admin.register(EnrolmentCode)
class EnrolmentCodeAdmin(HistoryAdmin):
    """Enrolment codes and authenticator resets: who was given one, by whom, when, and
    whether it was used. The codes themselves are not kept."""

    list_display = ["user", "reason", "kind", "issued_by", "issued_at", "expires_at",
                    "used_at", "voided_at"]
    list_filter = ["reason", "kind"]
    search_fields = ["user__username", "issued_by__username"]
    date_hierarchy = "issued_at"
    list_select_related = ["user", "issued_by"]

    def get_readonly_fields(self, request, obj=None):
        return [name for name in super().get_readonly_fields(request, obj) if name != "code_hash"]

    def get_exclude(self, request, obj=None):
        return ["code_hash"]


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(HistoryAdmin):
    """Every email the app sent or is sending, with what went wrong: browse, never change.

    The body is not shown: a plan link in it opens the patient's plan (it is emptied once
    the email is sent). Emails carry links and notices, never health data.
    """

    list_display = ["created_at", "kind", "recipient", "clinic", "language", "status",
                    "attempts", "next_attempt_at", "sent_at", "last_error"]
    list_filter = ["status", "kind", "clinic"]
    search_fields = ["recipient", "=message_id"]
    date_hierarchy = "created_at"
    list_select_related = ["clinic"]
    fields = ["kind", "clinic", "recipient", "language", "subject", "message_id", "status",
              "attempts", "last_error", "created_at", "next_attempt_at", "claimed_at",
              "sent_at"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields


# The task queue's own records (queued tasks, results, schedules) hold only an email's id
# and belong to the queue: the outgoing email list above is where mail is followed.
for model in (Success, Failure, OrmQ, Schedule):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(TOTPDeviceAdmin):
    """django-otp's authenticator admin; its set-up and QR code pages answer 404 for an
    authenticator that does not exist (django-otp's own raise a server error)."""

    def config_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().config_view(request, pk)

    def qrcode_view(self, request, pk):
        get_object_or_404(TOTPDevice, pk=pk)
        return super().qrcode_view(request, pk)
