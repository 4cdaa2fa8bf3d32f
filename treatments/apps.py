from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatmentsConfig(AppConfig):
    name = "treatments"
    verbose_name = _("Treatments catalogue")

    def ready(self):
        from treatments.catalogue_state import catalogue_signals_connect

        catalogue_signals_connect()
