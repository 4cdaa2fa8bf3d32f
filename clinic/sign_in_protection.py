"""Sign-in protection that stops a password guesser without letting a stranger lock staff out.

Three counts over django-axes' record of failed sign-ins (AccessAttempt rows, which count
until AXES_COOLOFF_TIME has passed since their last failure):

- **an account at an address**: AXES_FAILURE_LIMIT failures lock that account from that
  address. One guesser stops there, while the account still signs in from anywhere else.
- **an address**: SIGN_IN_ADDRESS_FAILURE_LIMIT failures, at any accounts, lock the address.
  A clinic's staff often share one public address (NAT), so the limit is well above what a
  morning of mistyped passwords adds up to, and the lock does not apply to a known device.
- **an account, from every address**: from SIGN_IN_SLOWDOWN_AFTER failures on, the account is
  under attack. A sign-in to it from an unknown device must then wait, after the account's
  latest failure, SIGN_IN_SLOWDOWN_FIRST_SECONDS doubling with each further failure up to
  SIGN_IN_SLOWDOWN_MAX_SECONDS, before its password is checked. The form says how long.
  The wait is a time to come back, not a pause on the server: a sleeping request would hold
  a server process, and parallel guesses would not be slowed at all.

A known device is a browser that has signed in to the account before: it keeps a signed
cookie naming the accounts it signed in to (by a keyed digest, not the username). The right
password from a known device gets in straight away, however many strangers guess.
"""

import datetime
import math

from django.conf import settings
from django.core import signing
from django.db.models import Max, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SALT = "clinic.sign_in_protection.known_device"
KNOWN_DEVICE_ACCOUNTS = 8  # a shared workstation remembers the last few staff who used it
MAX_DOUBLINGS = 30


def _failures(attempts):
    return attempts.aggregate(failures=Sum("failures_since_start"))["failures"] or 0


# -- Known devices ---------------------------------------------------------------------

def _account_digest(username):
    return salted_hmac(KNOWN_DEVICE_SALT, username).hexdigest()[:32]


def _known_device_digests(request):
    value = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default="", salt=KNOWN_DEVICE_SALT,
        max_age=datetime.timedelta(days=settings.SIGN_IN_KNOWN_DEVICE_DAYS))
    return [digest for digest in value.split(",") if digest]


def is_known_device(request, username):
    """Whether this browser has signed in to this account before."""
    if request is None or not username:
        return False
    return _account_digest(username) in _known_device_digests(request)


def known_device_remember(*, request, response, username):
    """After a sign-in with the right password, this browser is a known device for the
    account (for SIGN_IN_KNOWN_DEVICE_DAYS from its latest sign-in)."""
    digest = _account_digest(username)
    digests = [digest] + [d for d in _known_device_digests(request) if d != digest]
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE, ",".join(digests[:KNOWN_DEVICE_ACCOUNTS]),
        salt=KNOWN_DEVICE_SALT, max_age=settings.SIGN_IN_KNOWN_DEVICE_DAYS * 24 * 60 * 60,
        path=reverse("clinic:sign-in"), secure=settings.SESSION_COOKIE_SECURE, httponly=True,
        samesite="Lax")


# -- The wait while an account is under attack ------------------------------------------

def sign_in_wait_seconds(*, request, username):
    """Seconds this browser must still wait before a password for `username` is checked:
    0 unless the account is under attack (many recent failures, from any addresses) and
    this is not a known device."""
    if is_known_device(request, username):
        return 0
    now = timezone.now()
    recent = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=now - get_cool_off(request),
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    beyond = (recent["failures"] or 0) - settings.SIGN_IN_SLOWDOWN_AFTER
    if beyond < 0:
        return 0
    delay = min(settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS * 2 ** min(beyond, MAX_DOUBLINGS),
                settings.SIGN_IN_SLOWDOWN_MAX_SECONDS)
    ready_at = recent["last"] + datetime.timedelta(seconds=delay)
    return max(0, math.ceil((ready_at - now).total_seconds()))


# -- The locks ---------------------------------------------------------------------------

class SignInLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, with a limit of its own for the address count, no
    address lock for a known device, and a success that clears only its own failures."""

    def get_failures(self, request, credentials=None):
        """The failures that axes compares with AXES_FAILURE_LIMIT: the account's from this
        address, or the limit itself once the address has reached its own (higher) limit."""
        username = get_client_username(request, credentials)
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        from_here = recent.filter(ip_address=request.axes_ip_address)
        account_from_here = _failures(from_here.filter(username=username))
        if is_known_device(request, username):
            return account_from_here
        if _failures(from_here) >= settings.SIGN_IN_ADDRESS_FAILURE_LIMIT:
            return max(account_from_here, get_failure_limit(request, credentials))
        return account_from_here

    def reset_user_attempts(self, request, credentials=None):
        """A sign-in with the right password clears that account's failures from that
        address, and no others: knowing one password must not wipe an address's record of
        guesses at other accounts, nor the record of an attack from elsewhere."""
        username = get_client_username(request, credentials)
        count, _deleted = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address).delete()
        return count
