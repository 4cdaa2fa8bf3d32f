from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from clinic import checks  # noqa: F401  (registers the deployment checks)
        from clinic.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, sender=self)


class ClinicAdminConfig(AdminConfig):
    """The Django admin, served by the clinic's own admin site (see clinic.admin_site)."""

    default_site = "clinic.admin_site.ClinicAdminSite"
