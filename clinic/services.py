import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.audit import audit
from clinic.mail import outgoing_email_queue
from clinic.models import AuditEvent, Clinic, EnrolmentCode, OutgoingEmail, StaffMembership
from clinic.roles import CATALOGUE_ADMIN, ROLE_PERMISSIONS


def clinic_get_or_create(*, name, address="", phone="", email=""):
    clinic, _created = Clinic.objects.get_or_create(
        name=name, defaults={"address": address, "phone": phone, "email": email}
    )
    return clinic


@transaction.atomic
def staff_member_save(*, clinic, username, password, role, first_name="", last_name="",
                      email="", job_title=""):
    """Create or update a staff account in a clinic with exactly one role.

    Catalogue admins get admin-site access (is_staff); clinicians do not.
    """
    if role not in ROLE_PERMISSIONS:
        raise ValueError(f"Unknown role {role!r}")
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    user.first_name, user.last_name, user.email = first_name, last_name, email
    user.is_staff = role == CATALOGUE_ADMIN
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    StaffMembership.objects.update_or_create(
        user=user, defaults={"clinic": clinic, "job_title": job_title}
    )
    return user


class EnrolmentError(Exception):
    """An authenticator cannot be linked, or backup codes made, as asked; the message says
    why in words for the staff member."""


# Letters and digits that are hard to misread for one another (no 0/O, no 1/I): 32 of them,
# so a 12-character code carries 60 random bits.
ENROLMENT_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ENROLMENT_CODE_LENGTH = 12
AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"


def enrolment_code_hash(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def enrolment_code_normalise(typed):
    """A code as typed (any case, with or without its dashes and spaces) in stored form."""
    return "".join(typed.split()).replace("-", "").upper()


def enrolment_code_format(code):
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def enrolment_issuer_check(user):
    """Only a superuser issues enrolment codes and resets authenticators (a command run on
    the server, `user=None`, acts for whoever has the server)."""
    if user is not None and not (user.is_active and user.is_superuser):
        raise PermissionDenied


def enrolment_create(*, user, account, kind, reason, secret, emailed_to=""):
    """Void the account's open codes and store the hash of a new one."""
    now = timezone.now()
    EnrolmentCode.objects.filter(user=account, used_at__isnull=True,
                                 voided_at__isnull=True).update(voided_at=now)
    return EnrolmentCode.objects.create(
        user=account, code_hash=enrolment_code_hash(secret), kind=kind, reason=reason,
        issued_by=user, emailed_to=emailed_to,
        expires_at=now + datetime.timedelta(hours=settings.ENROLMENT_CODE_HOURS))


@transaction.atomic
def enrolment_code_issue(*, user, account, reason=EnrolmentCode.Reason.FIRST):
    """Give a staff member a one-time code to link their authenticator with. Returns
    (enrolment, code); only the code's hash is kept, so the code is shown once, to the
    superuser who hands it over in person or by telephone."""
    enrolment_issuer_check(user)
    code = "".join(secrets.choice(ENROLMENT_CODE_ALPHABET)
                   for _position in range(ENROLMENT_CODE_LENGTH))
    enrolment = enrolment_create(user=user, account=account, kind=EnrolmentCode.Kind.CODE,
                                 reason=reason, secret=code)
    audit("enrolment_code_issue", account, user=user)
    return enrolment, enrolment_code_format(code)


def enrolment_link_email(*, account, url, hours):
    """The email carrying an enrolment link, kept in the outgoing email list and sent once
    the enrolment is saved."""
    membership = getattr(account, "membership", None)
    clinic = membership.clinic if membership is not None else None
    language = clinic.locale if clinic is not None else settings.LANGUAGE_CODE
    with translation.override(language):
        outgoing_email_queue(
            kind=OutgoingEmail.Kind.ENROLMENT_LINK, clinic=clinic, recipient=account.email,
            language=language, subject=_("Link your authenticator app"),
            body=_(
                "Your clinic's administrator has asked you to link an authenticator app for "
                "two-step sign-in.\n\nSign in, then open this link: %(url)s\n\n"
                "The link works once, for %(hours)d hours. If you did not expect it, tell "
                "your administrator."
            ) % {"url": url, "hours": hours})


@transaction.atomic
def enrolment_link_send(*, user, account, link_url, reason=EnrolmentCode.Reason.FIRST):
    """Email a staff member a one-time link to link their authenticator with (sent once the
    record is saved). `link_url` turns the token into the full address."""
    enrolment_issuer_check(user)
    if not account.email:
        raise EnrolmentError(_("%(username)s has no email address: give them an enrolment "
                               "code instead.") % {"username": account.get_username()})
    token = secrets.token_urlsafe(32)  # 256 bits
    enrolment = enrolment_create(user=user, account=account, kind=EnrolmentCode.Kind.LINK,
                                 reason=reason, secret=token, emailed_to=account.email)
    enrolment_link_email(account=account, url=link_url(token),
                         hours=settings.ENROLMENT_CODE_HOURS)
    audit("enrolment_link_send", account, user=user)
    return enrolment


def authenticator_enrolment_start(*, user, secret, kind=EnrolmentCode.Kind.CODE):
    """Accept the enrolment code (or link token) given to the signed-in staff member and
    begin linking an authenticator: returns a new, not yet confirmed, TOTP device whose
    key is to be shown once. The code is spent whatever happens next."""
    if kind == EnrolmentCode.Kind.CODE:
        secret = enrolment_code_normalise(secret)
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise EnrolmentError(_("An authenticator is already linked to this account."))
        enrolment = (EnrolmentCode.objects.select_for_update()
                     .filter(code_hash=enrolment_code_hash(secret), user=user, kind=kind)
                     .first())
        if enrolment is not None and enrolment.state() == "open":
            enrolment.used_at = timezone.now()
            enrolment.save(update_fields=["used_at"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME,
                                               confirmed=False)
            audit("authenticator_enrolment_start", user, user=user)
            return device
    audit("authenticator_enrolment_start", user, user=user,
          outcome=AuditEvent.Outcome.DENIED)
    if kind == EnrolmentCode.Kind.LINK:
        raise EnrolmentError(_("This link has been used, has expired or was replaced by a "
                               "newer one. Ask your clinic's administrator for a new one."))
    raise EnrolmentError(_("That enrolment code is not right, has been used, has expired or "
                           "was replaced by a newer one. Check it, or ask your clinic's "
                           "administrator for a new one."))


def backup_codes_make(account):
    device, _created = StaticDevice.objects.get_or_create(
        user=account, defaults={"name": BACKUP_CODES_NAME, "confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _number in range(settings.BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def authenticator_confirm(*, user, device):
    """The staff member typed a right code from the authenticator being linked: it becomes
    their authenticator and they get fresh single-use backup codes (returned, to be shown
    once; only the backup device holds them)."""
    if device.user_id != user.pk or device.confirmed:
        raise EnrolmentError(_("This authenticator is not waiting to be linked to your "
                               "account. Ask your clinic's administrator for a new "
                               "enrolment code."))
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = backup_codes_make(user)
    audit("authenticator_confirm", user, user=user)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, user):
    """New backup codes for a staff member with a linked authenticator; the old ones stop
    working. Returns the codes, to be shown once."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise EnrolmentError(_("Link an authenticator app first: backup codes come with it."))
    codes = backup_codes_make(user)
    audit("backup_codes_regenerate", user, user=user)
    return codes


@transaction.atomic
def authenticator_reset(*, user, account):
    """A staff member lost their authenticator: remove every authenticator and backup code
    of theirs and issue a new enrolment code (returns (enrolment, code)). Recorded in the
    audit trail with the superuser who did it."""
    enrolment_issuer_check(user)
    for device in devices_for_user(account, confirmed=None):
        device.delete()
    enrolment, code = enrolment_code_issue(user=user, account=account,
                                           reason=EnrolmentCode.Reason.RESET)
    audit("authenticator_reset", account, user=user)
    return enrolment, code
