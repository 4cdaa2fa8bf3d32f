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
        # No savepoint of its own: inside a service's transaction, the entry and the chain's
        # lock belong to that transaction; outside one, this is the transaction.
        with transaction.atomic(using=using, savepoint=False):
            self._link(self._chain_head(using))
            super().save(*args, **kwargs)

    @classmethod
    def append_all(cls, entries, *, using=None):
        """Write several new entries at once (one page showing many patients), chained in
        the order given: one lock, one read of the chain's head, one insert."""
        entries = list(entries)
        if not entries:
            return []
        using = using or router.db_for_write(cls)
        with transaction.atomic(using=using, savepoint=False):
            previous = cls._chain_head(using)
            for entry in entries:
                previous = entry._link(previous)
            return cls.objects.using(using).bulk_create(entries)

    @classmethod
    def _chain_head(cls, using):
        """The hash of the last entry. One writer at a time: on PostgreSQL a lock held
        until the transaction ends makes concurrent requests wait their turn (SQLite writes
        one transaction at a time anyway), so the chain stays a single line."""
        connection = connections[using]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_CHAIN_LOCK])
        last = (cls.objects.using(using).order_by("-id")
                .values_list("entry_hash", flat=True).first())
        return last if last is not None else GENESIS

    def _link(self, previous_hash):
        self.previous_hash = previous_hash
        self.entry_hash = entry_hash(self.chained_content(), previous_hash)
        return self.entry_hash

    def chained_content(self):
        return {name: getattr(self, name) for name in CHAINED_FIELDS}

    def delete(self, *args, **kwargs):
        raise AuditTrailIsAppendOnly("the audit trail is append-only: DELETE refused")

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} " \
               f"{self.object_type} {self.object_id} ({self.outcome})"


class EnrolmentCode(models.Model):
    """What lets a staff member link their first authenticator: a one-time code an
    administrator gives them, or a one-time link emailed to the account's address.

    A password alone is not enough to link an authenticator, so a stolen password cannot
    be turned into a second factor. Only a hash of the code is stored; a code works once,
    for the account it was issued to, until it expires; issuing a new one voids the old.
    """

    class Kind(models.TextChoices):
        CODE = "code", _("Code given by an administrator")
        LINK = "link", _("Link sent by email")

    class Reason(models.TextChoices):
        FIRST = "first", _("First authenticator")
        RESET = "reset", _("Lost authenticator reset")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="enrolment_codes", verbose_name=_("staff member"))
    code_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("given as"), max_length=10, choices=Kind.choices,
                            default=Kind.CODE)
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices,
                              default=Reason.FIRST)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  null=True, blank=True, related_name="+",
                                  verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    emailed_to = models.EmailField(_("emailed to"), blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("authenticator enrolment code")
        verbose_name_plural = _("authenticator enrolment codes")

    def __str__(self):
        return f"{self.user} {self.issued_at:%Y-%m-%d %H:%M} ({self.state()})"

    def state(self, now=None):
        """'open', 'used', 'voided' or 'expired'."""
        if self.used_at:
            return "used"
        if self.voided_at:
            return "voided"
        if self.expires_at <= (now or timezone.now()):
            return "expired"
        return "open"
class OutgoingEmail(models.Model):
    """One email the app sends (a plan link, a notice of a question or an answer), kept from
    the moment the action that causes it is saved until the mail server has taken it.

    The row is written in the same transaction as the question or the share, so a mail
    server that is down loses nothing: the worker (clinic.mail) sends it after commit,
    retries with a growing pause, and marks it sent once. Emails carry links and notices,
    never health data; the body is emptied once sent, since a plan link in it opens a plan.
    """

    class Kind(models.TextChoices):
        PLAN_LINK = "plan_link", _("Plan link for a patient")
        QUESTION_NOTICE = "question_notice", _("Notice of a patient's question")
        ANSWER_NOTICE = "answer_notice", _("Notice of an answer for a patient")
        ENROLMENT_LINK = "enrolment_link", _("Authenticator enrolment link for staff")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+", null=True,
                               blank=True, verbose_name=_("clinic"),
                               help_text=_("None for a staff account outside any clinic."))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    recipient = models.EmailField(_("recipient"))
    language = models.CharField(_("language"), max_length=10)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_at = models.DateTimeField(_("sending since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"],
                                name="outgoing_email_due")]
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient} ({self.get_status_display()})"
