from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from clinic.models import Clinic, StaffMembership


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
