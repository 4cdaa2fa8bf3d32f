from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Clinic(models.Model):
    """A practice using the app. Staff, patients and their records belong to one clinic."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self):
        return self.name


class StaffMembership(models.Model):
    """Ties a staff account to the clinic it works for. What the person may do comes from
    their role (a group, see clinic.roles), not from this record."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership",
        verbose_name=_("user"),
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("clinic")
    )
    job_title = models.CharField(_("job title"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")

    def __str__(self):
        return f"{self.user} @ {self.clinic}"
