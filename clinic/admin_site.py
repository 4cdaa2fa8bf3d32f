from functools import wraps

from django.contrib import admin
from django.contrib.admin.exceptions import DisallowedModelAdminToField
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connections, transaction
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from clinic.errors import DATABASE_ERRORS
from clinic.roles import CATALOGUE_ADMIN, user_has_role


class LookupCheckedChangeList(ChangeList):
    """A list whose filter or search the database refuses (an invalid regular expression in
    ?name__regex=, say) is answered as the admin answers any invalid lookup: the list again
    without it (?e=1), instead of a server error. The query runs in a savepoint, so the
    refused one leaves the request's transaction usable."""

    def get_results(self, request):
        using = self.queryset.db
        try:
            with transaction.atomic(using=using):
                super().get_results(request)
        except (DatabaseError, ValueError) as error:
            if isinstance(error, DATABASE_ERRORS) and not connections[using].is_usable():
                raise  # the database itself is away: its own 503 page says so
            raise IncorrectLookupParameters(error) from error


class LookupCheckedAdmin(admin.ModelAdmin):
    def get_changelist(self, request, **kwargs):
        return LookupCheckedChangeList


class ClinicAdminSite(admin.AdminSite):
    """The admin is the catalogue admins' workshop (and the superusers').

    Anonymous visitors are sent to the app's own sign-in page; signed-in staff without the
    role get a plain 403 rather than the admin's second sign-in form.
    """

    site_header = _("Clinic catalogue administration")
    site_title = _("Catalogue admin")
    index_title = _("Treatments catalogue")

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every model's admin, the project's and the installed apps' alike, lists through
        LookupCheckedChangeList."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, LookupCheckedAdmin):
            admin_class = type(admin_class.__name__, (LookupCheckedAdmin, admin_class),
                               {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)

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
            if any(params.get(TO_FIELD_VAR, None) == "" for params in (request.GET, request.POST)):
                # Django's admin looks up a field named "" and fails: a bad request.
                raise DisallowedModelAdminToField("An empty field cannot be referenced.")
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
