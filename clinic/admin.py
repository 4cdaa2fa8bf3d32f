from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.shortcuts import get_object_or_404
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.admin_site import HistoryAdmin
from clinic.models import AuditEvent, Clinic, StaffMembership


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "phone", "email"]
    search_fields = ["name", "email"]


class StaffMembershipInline(admin.StackedInline):
    model = StaffMembership
    can_delete = False
    extra = 0
    max_num = 1


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class StaffUserAdmin(UserAdmin):
    """Staff accounts with the clinic they belong to; the role is the group."""

    inlines = [StaffMembershipInline]
    list_display = ["username", "first_name", "last_name", "membership__clinic", "is_active"]
    list_filter = ["groups", "membership__clinic", "is_active", "is_staff"]
    list_select_related = ["membership__clinic"]


@admin.register(AuditEvent)
class AuditEventAdmin(HistoryAdmin):
    """The audit trail: browse and filter, never change (the database refuses it too)."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "patient",
                    "outcome", "ip_address", "request_id"]
    list_filter = ["outcome", "action", "object_type", ("actor", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["actor_label", "request_id", "object_id", "=patient__id"]
    date_hierarchy = "at"
    list_select_related = ["patient"]


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
