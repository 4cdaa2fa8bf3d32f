from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

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
    search_fields = ["actor_label", "request_id", "client_request_id", "object_id",
                     "=patient__id"]
    date_hierarchy = "at"
    list_select_related = ["patient"]
