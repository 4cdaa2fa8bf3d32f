from django.conf import settings
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clinic.audit_chain import CHAINED_FIELDS, GENESIS, entry_hash


class Clinic(models.Model):
    """A practice using the app. Staff, patients and their records belong to one clinic."""

    class Locale(models.TextChoices):
        """How dates and numbers are written on English pages (Chinese pages follow
        Chinese conventions whatever the clinic's locale)."""

        EN_GB = "en-gb", _("English (United Kingdom)")
        EN_IE = "en-ie", _("English (Ireland)")
        EN_AU = "en-au", _("English (Australia)")
        EN_US = "en-us", _("English (United States)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    address = models.TextField(_("address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    locale = models.CharField(_("date and number format"), max_length=10,
                              choices=Locale.choices, default=Locale.EN_GB)

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self):
        return self.name

    def page_language(self, language):
        """The language to render a page in: English in the clinic's own locale (its dates
        and numbers), any other language as it is."""
        return self.locale if language == "en" else language


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


class AuditTrailIsAppendOnly(Exception):
    pass


# The PostgreSQL advisory lock that lines up writers of the audit trail (any fixed number,
# used for nothing else).
AUDIT_CHAIN_LOCK = 7_301_642_551


class AuditEvent(models.Model):
    """One read or write of patient data: who, which patient, what was done to which record,
    whether it was allowed, when, from where, in which request.

    Append-only: the database refuses to change, delete or truncate rows (see the
    migrations' triggers) and the app's own database role may only insert and read them
    (docs/deploy.md). Each entry is chained to the one before it by a hash of its content
    (clinic.audit_chain), so an entry changed or removed by someone who got past both is
    found by `manage.py audit_verify`.
    """

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", _("Allowed")
        DENIED = "denied", _("Denied")

    # Set before the entry is hashed, hence a default rather than auto_now_add (which
    # would set it again while saving, after the hash).
    at = models.DateTimeField(_("when"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                              blank=True, related_name="+", verbose_name=_("staff member"))
    actor_label = models.CharField(_("who"), max_length=150)
    patient = models.ForeignKey("consultations.Patient", on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("patient"))
    action = models.CharField(_("action"), max_length=40, db_index=True)
    object_type = models.CharField(_("record type"), max_length=40)
    object_id = models.CharField(_("record id"), max_length=40, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices,
                               default=Outcome.ALLOWED)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    # What the caller (or a proxy in front) sent as X-Request-ID, kept apart from the
    # server's own id so that a caller cannot pass its requests off as another's.
    client_request_id = models.CharField(_("caller's request id"), max_length=64, blank=True)
    previous_hash = models.CharField(_("previous entry's hash"), max_length=64, blank=True,
                                     editable=False)
    entry_hash = models.CharField(_("hash"), max_length=64, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"])]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditTrailIsAppendOnly("the audit trail is append-only: UPDATE refused")
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            self._chain_to_last(using)
            super().save(*args, **kwargs)

    def _chain_to_last(self, using):
        """Link this entry to the last one. One entry at a time: on PostgreSQL a lock held
        until the transaction ends makes concurrent requests wait their turn (SQLite writes
        one transaction at a time anyway), so the chain stays a single line."""
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        last = (AuditEvent.objects.using(using).order_by("-id")
                .values_list("entry_hash", flat=True).first())
        self.previous_hash = last if last is not None else GENESIS
        self.entry_hash = entry_hash(self.chained_content(), self.previous_hash)

    def chained_content(self):
        return {name: getattr(self, name) for name in CHAINED_FIELDS}

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("the audit trail is append-only: DELETE refused")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} " \
               f"{self.object_type} {self.object_id} ({self.outcome})"
