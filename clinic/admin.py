from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django_q.models import Failure, OrmQ, Schedule, Success

from clinic.admin_site import HistoryAdmin
from clinic.models import AuditEvent, Clinic, OutgoingEmail, StaffMembership


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
