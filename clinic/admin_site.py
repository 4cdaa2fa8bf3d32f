from functools import wraps

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from clinic.roles import CATALOGUE_ADMIN, user_has_role


class ClinicAdminSite(admin.AdminSite):
    """The admin is the catalogue admins' workshop (and the superusers').

    Anonymous visitors are sent to the app's own sign-in page; signed-in staff without the
    role get a plain 403 rather than the admin's second sign-in form.
    """

    site_header = _("Clinic catalogue administration")
    site_title = _("Catalogue admin")
    index_title = _("Treatments catalogue")

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and (
            user.is_superuser or user_has_role(user, CATALOGUE_ADMIN)
        )

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not self.has_permission(request):
                if request.user.is_authenticated:
                    raise PermissionDenied
                return redirect_to_login(request.get_full_path())
            return inner(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        """Signing in happens on the app's own page (with its lockout and two-step check)."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect("admin:index")
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", "/admin/"))


class HistoryAdmin(admin.ModelAdmin):
    """For records the app writes as history (catalogue changes, the audit trail): they can
    be browsed and filtered, never added, changed or deleted by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
