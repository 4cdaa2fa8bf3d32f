from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.db.models.signals import post_migrate


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self):
        from django_q.signals import post_spawn

        from clinic import checks  # noqa: F401  (registers the deployment checks)
        from clinic.mail import sweep_schedule_after_migrate, sweep_when_worker_starts
        from clinic.roles import roles_sync_after_migrate

        post_migrate.connect(roles_sync_after_migrate, sender=self)
        post_migrate.connect(sweep_schedule_after_migrate, sender=self)
        post_spawn.connect(sweep_when_worker_starts, dispatch_uid="clinic-outgoing-email")


class ClinicAdminConfig(AdminConfig):
    """The Django admin, served by the clinic's own admin site (see clinic.admin_site)."""

    default_site = "clinic.admin_site.ClinicAdminSite"
