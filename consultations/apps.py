from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "consultations"
    verbose_name = _("Patients and consultations")

    def ready(self):
        from consultations.plan_services import plans_recheck
        from treatments.catalogue_state import catalogue_committed

        # A catalogue change can bring a planned procedure a new flag, whatever the plan's
        # state: every live plan is checked again once the change is committed.
        catalogue_committed.connect(lambda **kwargs: plans_recheck(),
                                    dispatch_uid="plans-recheck-after-catalogue-change",
                                    weak=False)
