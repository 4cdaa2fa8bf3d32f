from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from clinic.roles import CATALOGUE_ADMIN, user_has_role


class ClinicAdminSite(admin.AdminSite):
    """The admin is the catalogue admins' workshop (and the superusers').

    Signed-in staff without that role get a plain 403 instead of the admin's own sign-in
    form, and anonymous visitors are sent to the app's sign-in page.
    """

    site_header = _("Clinic catalogue administration")
    site_title = _("Catalogue admin")
    index_title = _("Treatments catalogue")

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and (
            user.is_superuser or user_has_role(user, CATALOGUE_ADMIN)
        )

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", request.get_full_path()))
