"""Sign-in lockout that stops a password guesser but that a stranger cannot turn against
staff, and the caller's address taken from the trusted proxies only."""

import datetime

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db.models import F, Sum
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from clinic.client_address import client_ip
from clinic.models import AuditEvent
from clinic.sign_in_protection import KNOWN_DEVICE_COOKIE, sign_in_wait_seconds
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("clinic:sign-in")
CLINIC_ADDRESS = "198.51.100.7"  # the clinic's one public address, shared by its staff


def sign_in(client, username, password=PASSWORD, address=CLINIC_ADDRESS, **extra):
    return client.post(SIGN_IN, {"username": username, "password": password},
                       REMOTE_ADDR=address, **extra)


def signed_in(client):
    return "_auth_user_id" in client.session


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Hundreds of password checks here: a fast hasher (the lockout does not depend on it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def fail_from_many_addresses(username, times):
    """Strangers' wrong passwords for one account, each from an address of its own (every
    one checked and counted: the tests set the wait that follows)."""
    with override_settings(SIGN_IN_SLOWDOWN_FIRST_SECONDS=0):
        for attempt in range(times):
            response = sign_in(Client(), username, "wrong", address=f"203.0.113.{attempt + 1}")
            assert response.status_code == 200


def recorded_failures(username):
    return (AccessAttempt.objects.filter(username=username)
            .aggregate(total=Sum("failures_since_start"))["total"] or 0)


@pytest.fixture
def known_device(clinician):
    """The clinician's own browser: it signed in once, then signed out."""
    device = Client()
    assert sign_in(device, clinician.username).status_code == 302
    device.post(reverse("clinic:sign-out"))
    assert not signed_in(device)
    return device


class TestAStrangerCannotLockStaffOut:
    def test_failures_from_many_addresses_do_not_lock_the_account(self, clinician):
        fail_from_many_addresses(clinician.username, 5)

        device = Client()
        response = sign_in(device, clinician.username, address="192.0.2.44")

        assert response.status_code == 302 and signed_in(device)

    def test_under_attack_the_right_password_from_a_known_device_gets_in_at_once(
            self, clinician, known_device, settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(clinician.username, 15)

        # From another address than its last sign-in (a clinician's laptop at home).
        response = sign_in(known_device, clinician.username, address="192.0.2.44")

        assert response.status_code == 302 and signed_in(known_device)

    def test_under_attack_a_new_device_waits_then_gets_in(self, clinician, settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(clinician.username, 12)
        new_device = Client()

        refused = sign_in(new_device, clinician.username, address="192.0.2.44")

        assert refused.status_code == 200 and not signed_in(new_device)
        assert "Try again in 60 seconds" in refused.content.decode()
        assert recorded_failures(clinician.username) == 12  # waiting is not a failure
        AccessAttempt.objects.update(attempt_time=F("attempt_time")
                                     - datetime.timedelta(seconds=61))

        response = sign_in(new_device, clinician.username, address="192.0.2.44")

        assert response.status_code == 302 and signed_in(new_device)

    def test_under_attack_a_wrong_password_from_a_new_device_is_not_even_checked(
            self, clinician, settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(clinician.username, 10)

        response = sign_in(Client(), clinician.username, "guess", address="192.0.2.99")

        assert "Try again in 30 seconds" in response.content.decode()
        assert recorded_failures(clinician.username) == 10

    def test_the_wait_doubles_with_each_failure_up_to_a_minute(self, clinician):
        request = RequestFactory().post(SIGN_IN)

        def wait_after(failures):
            AccessAttempt.objects.all().delete()
            for address in range(failures):
                AccessAttempt.objects.create(
                    username=clinician.username, ip_address=f"203.0.113.{address + 1}",
                    user_agent="", failures_since_start=1, attempt_time=timezone.now())
            return sign_in_wait_seconds(request=request, username=clinician.username)

        assert [wait_after(n) for n in (9, 10, 11, 12, 13, 15, 16, 40)] == [
            0, 1, 2, 4, 8, 32, 60, 60]

    def test_failures_older_than_the_cool_off_no_longer_slow_anyone(self, clinician,
                                                                    settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(clinician.username, 12)
        AccessAttempt.objects.update(attempt_time=F("attempt_time")
                                     - datetime.timedelta(minutes=31))

        assert sign_in(Client(), clinician.username, address="192.0.2.44").status_code == 302

    def test_a_known_device_is_known_for_its_own_accounts_only(self, clinician,
                                                               catalogue_admin, known_device,
                                                               settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(catalogue_admin.username, 12)

        response = sign_in(known_device, catalogue_admin.username)

        assert response.status_code == 200 and not signed_in(known_device)
        assert "Try again in" in response.content.decode()

    def test_a_shared_workstation_is_known_for_each_account_signed_in_on_it(
            self, clinician, catalogue_admin, settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        workstation = Client()
        for user in (clinician, catalogue_admin):
            assert sign_in(workstation, user.username).status_code == 302
            workstation.post(reverse("clinic:sign-out"))
        fail_from_many_addresses(clinician.username, 12)
        fail_from_many_addresses(catalogue_admin.username, 12)

        for user in (clinician, catalogue_admin):
            assert sign_in(workstation, user.username).status_code == 302
            workstation.post(reverse("clinic:sign-out"))

    def test_a_made_up_known_device_cookie_is_not_trusted(self, clinician, known_device,
                                                          settings):
        settings.SIGN_IN_SLOWDOWN_FIRST_SECONDS = 30
        fail_from_many_addresses(clinician.username, 12)
        forged = Client()
        signed_value = known_device.cookies[KNOWN_DEVICE_COOKIE].value
        forged.cookies[KNOWN_DEVICE_COOKIE] = signed_value.split(":")[0]  # no signature

        response = sign_in(forged, clinician.username)

        assert response.status_code == 200 and not signed_in(forged)

    def test_the_known_device_cookie_is_kept_from_scripts_and_other_pages(self, clinician):
        device = Client()
        sign_in(device, clinician.username)

        cookie = device.cookies[KNOWN_DEVICE_COOKIE]
        assert cookie["httponly"] and cookie["path"] == SIGN_IN
        assert clinician.username not in cookie.value


class TestAGuesserIsStillStopped:
    def test_five_failures_lock_the_account_from_that_address(self, clinician):
        for _ in range(5):
            sign_in(Client(), clinician.username, "wrong", address="203.0.113.66")

        locked = sign_in(Client(), clinician.username, address="203.0.113.66")

        assert locked.status_code == 429
        assert "locked" in locked.content.decode()
        assert sign_in(Client(), clinician.username, address="192.0.2.44").status_code == 302

    def test_many_failures_at_any_accounts_lock_the_address(self, clinician, catalogue_admin):
        for attempt in range(20):  # four tries each at five names: under the account limit
            sign_in(Client(), f"name{attempt % 5}", "wrong", address="203.0.113.66")

        assert sign_in(Client(), clinician.username, address="203.0.113.66").status_code == 429
        assert sign_in(Client(), catalogue_admin.username,
                       address="192.0.2.44").status_code == 302

    def test_staff_behind_one_address_mistyping_do_not_lock_each_other_out(self, clinic,
                                                                          clinician):
        colleagues = [UserFactory(clinic=clinic) for _ in range(4)]
        for colleague in colleagues:
            for _ in range(4):
                sign_in(Client(), colleague.username, "typo")

        assert sign_in(Client(), clinician.username).status_code == 302
        assert all(sign_in(Client(), colleague.username).status_code == 302
                   for colleague in colleagues)

    def test_a_locked_address_still_lets_in_a_known_device(self, clinician, known_device):
        for attempt in range(20):
            sign_in(Client(), f"name{attempt % 5}", "wrong")
        assert sign_in(Client(), clinician.username).status_code == 429

        response = sign_in(known_device, clinician.username)

        assert response.status_code == 302 and signed_in(known_device)

    def test_a_known_device_is_still_locked_after_five_wrong_passwords(self, clinician,
                                                                       known_device):
        for _ in range(5):
            sign_in(known_device, clinician.username, "wrong")

        assert sign_in(known_device, clinician.username).status_code == 429

    def test_signing_in_to_ones_own_account_does_not_wipe_ones_guesses(self, clinician,
                                                                       catalogue_admin):
        insider = Client()
        for _ in range(4):
            sign_in(insider, clinician.username, "guess", address="203.0.113.66")
        assert sign_in(insider, catalogue_admin.username, address="203.0.113.66").status_code == 302
        insider.post(reverse("clinic:sign-out"))

        sign_in(insider, clinician.username, "guess", address="203.0.113.66")

        assert sign_in(Client(), clinician.username, address="203.0.113.66").status_code == 429

    def test_a_right_password_clears_that_accounts_failures_from_that_address(self,
                                                                             clinician):
        for _ in range(4):
            sign_in(Client(), clinician.username, "typo")
        assert sign_in(Client(), clinician.username).status_code == 302

        for _ in range(4):
            sign_in(Client(), clinician.username, "typo")

        assert sign_in(Client(), clinician.username).status_code == 302


class TestTheCallersAddress:
    @pytest.mark.parametrize("proxies, remote_addr, forwarded_for, expected", [
        # No proxy: the connection is the caller; what it claims is ignored.
        (0, "198.51.100.7", None, "198.51.100.7"),
        (0, "198.51.100.7", "203.0.113.9", "198.51.100.7"),
        (0, "not an address", "203.0.113.9", None),
        # One proxy (nginx): the right-most entry is the one nginx added.
        (1, "127.0.0.1", "203.0.113.9", "203.0.113.9"),
        (1, "127.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (1, "127.0.0.1", "not-an-address, 6.6.6.6, 203.0.113.9", "203.0.113.9"),
        (1, "127.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
        (1, "127.0.0.1", None, "127.0.0.1"),  # straight from the proxy's own machine
        # Two proxies (a load balancer, then nginx, which adds the balancer's address).
        (2, "127.0.0.1", "203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "127.0.0.1", "6.6.6.6, 7.7.7.7, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
    ])
    def test_the_address_comes_from_the_trusted_proxies_only(self, settings, proxies,
                                                             remote_addr, forwarded_for,
                                                             expected):
        settings.TRUSTED_PROXY_COUNT = proxies
        headers = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
        request = RequestFactory().get("/", REMOTE_ADDR=remote_addr, **headers)

        assert client_ip(request) == expected

    def test_behind_the_proxy_one_guesser_does_not_lock_the_clinic(self, settings, clinician,
                                                                  catalogue_admin):
        settings.TRUSTED_PROXY_COUNT = 1
        for attempt in range(5):
            sign_in(Client(), clinician.username, "wrong", address="127.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"10.9.9.{attempt}, 203.0.113.66")

        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {
            "203.0.113.66"}
        assert sign_in(Client(), clinician.username, address="127.0.0.1",
                       HTTP_X_FORWARDED_FOR="203.0.113.66").status_code == 429
        assert sign_in(Client(), catalogue_admin.username, address="127.0.0.1",
                       HTTP_X_FORWARDED_FOR="192.0.2.44").status_code == 302

    def test_without_a_proxy_a_made_up_header_does_not_dodge_the_lock(self, clinician):
        for attempt in range(5):
            sign_in(Client(), clinician.username, "wrong", address="203.0.113.66",
                    HTTP_X_FORWARDED_FOR=f"10.9.9.{attempt}")

        assert sign_in(Client(), clinician.username, address="203.0.113.66",
                       HTTP_X_FORWARDED_FOR="10.9.9.200").status_code == 429

    def test_the_audit_trail_records_the_address_the_lockout_counts(self, settings,
                                                                    clinician):
        settings.TRUSTED_PROXY_COUNT = 1
        client = Client(HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
        sign_in(client, clinician.username, "wrong", address="127.0.0.1")
        assert AccessAttempt.objects.get().ip_address == "203.0.113.9"
        sign_in(client, clinician.username, address="127.0.0.1")

        client.post(reverse("consultations:patient-create"), {
            "full_name": "Ines Duarte", "date_of_birth": "1985-01-01",
            "preferred_language": "en"}, REMOTE_ADDR="127.0.0.1")

        assert AccessLog.objects.get(username=clinician.username).ip_address == "203.0.113.9"
        event = AuditEvent.objects.get(action="create", object_type="patient")
        assert event.ip_address == "203.0.113.9"


class TestUnusableSignInInput:
    """Answered next to the field, before any account is looked up: nothing is stored."""

    @pytest.mark.parametrize("username, password, field, message", [
        ("u" * 300, "anything", "username", "No username is longer than 150 characters"),
        ("u" * 151, "anything", "username", "No username is longer than 150 characters"),
        ("mei\x00lin", "anything", "username", "A username cannot contain a null character"),
        ("mei", "pass\x00word", "password", "A password cannot contain a null character"),
    ])
    def test_is_answered_next_to_its_field(self, clinician, username, password, field,
                                           message):
        client = Client(raise_request_exception=False)

        response = sign_in(client, username, password)

        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors[field])
        assert message in response.content.decode()
        assert not AccessAttempt.objects.exists()
        assert not AccessFailureLog.objects.exists()
