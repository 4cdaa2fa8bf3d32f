"""Linking a first authenticator needs more than the password (a one-time enrolment code
from a superuser, or an emailed link); its key is shown once; backup codes work once each;
a superuser's reset of a lost authenticator is recorded with who did it."""

import base64
import datetime
import hashlib
import re
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.models import AuditEvent, EnrolmentCode
from clinic.services import (
    EnrolmentError,
    authenticator_reset,
    backup_codes_regenerate,
    enrolment_code_issue,
    enrolment_link_send,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SETUP = reverse("clinic:two-factor-setup")
CODE_PAGE = reverse("clinic:two-factor")
PATIENTS = reverse("consultations:patient-list")
USERS = reverse("admin:auth_user_changelist")


@pytest.fixture(autouse=True)
def required(settings):
    settings.REQUIRE_TWO_FACTOR = True
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # no pause after a wrong code, for the tests
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def signed_in(user):
    client = Client()
    assert client.post(reverse("clinic:sign-in"),
                       {"username": user.username, "password": PASSWORD}).status_code == 302
    return client


def verified(user):
    """A client signed in with the password and a code from the user's authenticator."""
    client = signed_in(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert client.post(CODE_PAGE, {"code": app_code(device)}).status_code == 302
    return client


def app_code(device):
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def shown_key(response):
    match = re.search(r'<code class="user-select-all">([A-Z2-7=]+)</code>',
                      response.content.decode())
    return match.group(1) if match else None


def shown_backup_codes(response):
    return re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())


def linked(user):
    TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)
    return backup_codes_regenerate(user=user)


class TestAPasswordAloneCannotLinkAnAuthenticator:
    def test_the_page_asks_for_an_enrolment_code_and_shows_no_key(self, clinician):
        client = signed_in(clinician)

        page = client.get(CODE_PAGE, follow=True)

        assert page.redirect_chain[-1][0] == SETUP
        content = page.content.decode()
        assert "administrator" in content
        assert "<svg" not in content and shown_key(page) is None
        assert not TOTPDevice.objects.filter(user=clinician).exists()
        assert client.get(PATIENTS).url == CODE_PAGE

    def test_a_six_digit_code_without_an_enrolment_links_nothing(self, clinician):
        client = signed_in(clinician)

        response = client.post(SETUP, {"code": "123456"})

        assert "Enter the enrolment code" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=clinician).exists()
        assert client.get(PATIENTS).url == CODE_PAGE


class TestEnrolmentCode:
    def test_a_valid_code_links_the_authenticator_and_gives_backup_codes(self, clinician,
                                                                         superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        client = signed_in(clinician)

        scan = client.post(SETUP, {"enrolment_code": code})

        device = TOTPDevice.objects.get(user=clinician, confirmed=False)
        assert "<svg" in scan.content.decode()
        assert shown_key(scan) == base64.b32encode(device.bin_key).decode()
        done = client.post(SETUP, {"code": app_code(device)})
        device.refresh_from_db()
        assert device.confirmed
        codes = shown_backup_codes(done)
        assert len(codes) == 10
        assert sorted(codes) == sorted(StaticToken.objects.filter(
            device__user=clinician).values_list("token", flat=True))
        assert client.get(PATIENTS).status_code == 200

    def test_the_code_may_be_typed_in_lower_case_without_its_dashes(self, clinician,
                                                                    superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)

        scan = signed_in(clinician).post(SETUP, {"enrolment_code": code.replace("-", "").lower()})

        assert shown_key(scan) is not None

    def test_a_used_code_is_refused(self, clinician, superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        signed_in(clinician).post(SETUP, {"enrolment_code": code})

        again = signed_in(clinician).post(SETUP, {"enrolment_code": code})

        assert "has been used" in again.content.decode()
        assert shown_key(again) is None
        assert TOTPDevice.objects.filter(user=clinician).count() == 1
        assert AuditEvent.objects.filter(action="authenticator_enrolment_start",
                                         outcome="denied", actor=clinician).count() == 1

    def test_an_expired_code_is_refused(self, clinician, superuser):
        enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        EnrolmentCode.objects.filter(pk=enrolment.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1))

        response = signed_in(clinician).post(SETUP, {"enrolment_code": code})

        assert "has expired" in response.content.decode()
        assert shown_key(response) is None
        assert not TOTPDevice.objects.filter(user=clinician).exists()

    def test_it_expires_after_seventy_two_hours(self, clinician, superuser):
        enrolment, _code = enrolment_code_issue(user=superuser, account=clinician)

        lifetime = enrolment.expires_at - enrolment.issued_at
        assert abs(lifetime - datetime.timedelta(hours=72)) < datetime.timedelta(seconds=5)

    def test_a_code_works_only_for_the_account_it_was_given_to(self, clinician,
                                                               catalogue_admin, superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)

        response = signed_in(catalogue_admin).post(SETUP, {"enrolment_code": code})

        assert shown_key(response) is None
        assert not TOTPDevice.objects.exists()
        assert EnrolmentCode.objects.get().used_at is None

    def test_a_new_code_voids_the_earlier_one(self, clinician, superuser):
        _first, earlier = enrolment_code_issue(user=superuser, account=clinician)
        enrolment_code_issue(user=superuser, account=clinician)

        response = signed_in(clinician).post(SETUP, {"enrolment_code": earlier})

        assert "replaced by a newer one" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=clinician).exists()

    def test_only_a_hash_of_the_code_is_kept(self, clinician, superuser):
        enrolment, code = enrolment_code_issue(user=superuser, account=clinician)

        stored = code.replace("-", "")
        assert enrolment.code_hash == hashlib.sha256(stored.encode()).hexdigest()
        assert not any(stored in str(value) for value in
                       EnrolmentCode.objects.values_list().get())

    def test_a_wrong_code_says_so_next_to_the_field(self, clinician, superuser):
        enrolment_code_issue(user=superuser, account=clinician)

        response = signed_in(clinician).post(SETUP, {"enrolment_code": "ABCD-EFGH-JKLM"})

        assert response.status_code == 200
        assert "That enrolment code is not right" in response.content.decode()
        assert "is-invalid" in response.content.decode()

    def test_a_superuser_gives_one_from_the_staff_accounts(self, clinician, superuser,
                                                           client_as, settings):
        settings.REQUIRE_TWO_FACTOR = False
        page = client_as(superuser).post(USERS, {"action": "issue_enrolment_code",
                                                 "_selected_action": [clinician.pk]})
        settings.REQUIRE_TWO_FACTOR = True

        code = re.search(r'<code class="enrolment-code">([A-Z2-9-]+)</code>',
                         page.content.decode()).group(1)
        assert EnrolmentCode.objects.get(user=clinician).issued_by == superuser
        assert shown_key(signed_in(clinician).post(SETUP, {"enrolment_code": code}))

    @pytest.mark.parametrize("role", ["catalogue_admin", "clinician"])
    def test_nobody_else_gives_one_from_the_admin(self, role, request, clinician, settings):
        settings.REQUIRE_TWO_FACTOR = False
        client = Client()
        client.force_login(request.getfixturevalue(role))

        response = client.post(USERS, {"action": "issue_enrolment_code",
                                       "_selected_action": [clinician.pk]})

        assert response.status_code == 403
        assert not EnrolmentCode.objects.exists()

    def test_only_a_superuser_issues_codes(self, clinician, catalogue_admin):
        with pytest.raises(PermissionDenied):
            enrolment_code_issue(user=catalogue_admin, account=clinician)
        assert not EnrolmentCode.objects.exists()


class TestTheKeyIsShownOnce:
    def test_reloading_the_page_does_not_show_the_key_again(self, clinician, superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        client = signed_in(clinician)
        key = shown_key(client.post(SETUP, {"enrolment_code": code}))

        reloaded = client.get(SETUP)

        assert key is not None and key not in reloaded.content.decode()
        assert "<svg" not in reloaded.content.decode()
        assert "not shown again" in reloaded.content.decode()

    def test_a_wrong_app_code_does_not_show_it_again_and_the_right_one_still_links(
            self, clinician, superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        client = signed_in(clinician)
        key = shown_key(client.post(SETUP, {"enrolment_code": code}))

        wrong = client.post(SETUP, {"code": "000000"})

        assert "not right" in wrong.content.decode() and key not in wrong.content.decode()
        device = TOTPDevice.objects.get(user=clinician)
        client.post(SETUP, {"code": app_code(device)})
        device.refresh_from_db()
        assert device.confirmed

    def test_another_session_of_the_same_account_cannot_confirm_it(self, clinician,
                                                                   superuser):
        _enrolment, code = enrolment_code_issue(user=superuser, account=clinician)
        signed_in(clinician).post(SETUP, {"enrolment_code": code})
        device = TOTPDevice.objects.get(user=clinician)

        other = signed_in(clinician)
        response = other.post(SETUP, {"code": app_code(device)})

        device.refresh_from_db()
        assert not device.confirmed
        assert shown_key(response) is None
        assert other.get(PATIENTS).url == CODE_PAGE


class TestEnrolmentLink:
    def link_sent(self, superuser, account, mailoutbox, capture):
        with capture(execute=True):
            enrolment_link_send(user=superuser, account=account,
                                link_url=lambda token: f"http://testserver/sign-in/authenticator/{token}/")
        assert len(mailoutbox) == 1 and mailoutbox[0].to == [account.email]
        return re.search(r"http://testserver(\S+/)", mailoutbox[0].body).group(1)

    def test_opening_the_link_changes_nothing_and_pressing_the_button_shows_the_key(
            self, clinician, superuser, mailoutbox, django_capture_on_commit_callbacks):
        path = self.link_sent(superuser, clinician, mailoutbox,
                              django_capture_on_commit_callbacks)
        client = signed_in(clinician)

        opened = client.get(path)
        assert opened.status_code == 200 and shown_key(opened) is None
        assert not TOTPDevice.objects.filter(user=clinician).exists()

        scan = client.post(path)
        assert shown_key(scan) is not None
        device = TOTPDevice.objects.get(user=clinician)
        client.post(SETUP, {"code": app_code(device)})
        device.refresh_from_db()
        assert device.confirmed

    def test_the_link_works_once(self, clinician, superuser, mailoutbox,
                                 django_capture_on_commit_callbacks):
        path = self.link_sent(superuser, clinician, mailoutbox,
                              django_capture_on_commit_callbacks)
        signed_in(clinician).post(path)

        again = signed_in(clinician).post(path)

        assert "has been used" in again.content.decode() and shown_key(again) is None

    def test_the_link_asks_for_the_password_first(self, clinician, superuser, mailoutbox,
                                                  django_capture_on_commit_callbacks):
        path = self.link_sent(superuser, clinician, mailoutbox,
                              django_capture_on_commit_callbacks)

        response = Client().post(path)

        assert response.url.startswith(reverse("clinic:sign-in"))
        assert EnrolmentCode.objects.get().used_at is None

    def test_an_account_without_an_email_address_gets_no_link(self, clinician, superuser,
                                                              mailoutbox):
        clinician.email = ""
        clinician.save()

        with pytest.raises(EnrolmentError, match="no email address"):
            enrolment_link_send(user=superuser, account=clinician, link_url=str)
        assert not EnrolmentCode.objects.exists() and mailoutbox == []


class TestBackupCodes:
    def test_a_backup_code_signs_in_once(self, clinician):
        code = linked(clinician)[0]

        first = signed_in(clinician)
        assert first.post(CODE_PAGE, {"code": code}).status_code == 302
        assert first.get(PATIENTS).status_code == 200

        second = signed_in(clinician)
        assert "not right" in second.post(CODE_PAGE, {"code": code}).content.decode()
        assert second.get(PATIENTS).url == CODE_PAGE

    def test_each_backup_code_works_on_its_own(self, clinician):
        codes = linked(clinician)

        for code in codes:
            assert signed_in(clinician).post(CODE_PAGE, {"code": code.upper()}).status_code == 302
        assert not StaticToken.objects.filter(device__user=clinician).exists()

    def test_new_backup_codes_void_the_old_ones(self, clinician):
        old = linked(clinician)
        client = verified(clinician)

        page = client.post(reverse("clinic:backup-codes"))

        new = shown_backup_codes(page)
        assert len(new) == 10 and not set(new) & set(old)
        assert "not right" in signed_in(clinician).post(
            CODE_PAGE, {"code": old[0]}).content.decode()
        assert signed_in(clinician).post(CODE_PAGE, {"code": new[0]}).status_code == 302

    def test_making_new_ones_needs_a_confirmed_code_in_this_session(self, clinician,
                                                                    settings):
        settings.REQUIRE_TWO_FACTOR = False  # even where the clinic does not require it
        old = linked(clinician)
        client = signed_in(clinician)

        response = client.post(reverse("clinic:backup-codes"))

        assert response.status_code == 302 and response.url.startswith(CODE_PAGE)
        assert sorted(old) == sorted(StaticToken.objects.values_list("token", flat=True))

    def test_without_an_authenticator_there_are_none_to_make(self, clinician):
        with pytest.raises(EnrolmentError):
            backup_codes_regenerate(user=clinician)
        assert not StaticDevice.objects.exists()


def reset_by(client, account):
    return client.post(USERS, {"action": "reset_authenticator", "_selected_action": [account.pk],
                               "confirmed": "yes"})


class TestReset:
    def test_a_superuser_resets_a_lost_authenticator_and_it_is_recorded(self, clinician,
                                                                        superuser):
        linked(clinician)
        TOTPDevice.objects.create(user=superuser, name="Phone", confirmed=True)

        page = reset_by(verified(superuser), clinician)

        assert page.status_code == 200
        code = re.search(r'<code class="enrolment-code">([A-Z2-9-]+)</code>',
                         page.content.decode()).group(1)
        assert not TOTPDevice.objects.filter(user=clinician).exists()
        assert not StaticDevice.objects.filter(user=clinician).exists()
        enrolment = EnrolmentCode.objects.get(user=clinician)
        assert (enrolment.reason, enrolment.issued_by) == ("reset", superuser)
        event = AuditEvent.objects.get(action="authenticator_reset")
        assert (event.actor, event.actor_label, event.object_type, event.object_id) == (
            superuser, superuser.username, "user", str(clinician.pk))
        # The new code links a new authenticator.
        assert shown_key(signed_in(clinician).post(SETUP, {"enrolment_code": code}))

    def test_a_session_confirmed_with_the_lost_authenticator_must_confirm_again(
            self, clinician, superuser):
        linked(clinician)
        client = verified(clinician)
        assert client.get(PATIENTS).status_code == 200

        authenticator_reset(user=superuser, account=clinician)

        assert client.get(PATIENTS).url == CODE_PAGE

    def test_the_superuser_is_asked_first(self, clinician, superuser, client_as, settings):
        settings.REQUIRE_TWO_FACTOR = False
        linked(clinician)

        page = client_as(superuser).post(USERS, {"action": "reset_authenticator",
                                                 "_selected_action": [clinician.pk]})

        assert page.status_code == 200 and "Yes, reset them" in page.content.decode()
        assert TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
        assert not EnrolmentCode.objects.exists()

    def test_who_reset_it_and_when_shows_on_the_staff_account(self, clinician, superuser,
                                                              client_as, settings):
        settings.REQUIRE_TWO_FACTOR = False
        authenticator_reset(user=superuser, account=clinician)

        page = client_as(superuser).get(reverse("admin:auth_user_change", args=[clinician.pk]))
        listing = client_as(superuser).get(reverse("admin:clinic_enrolmentcode_changelist"))

        for response in (page, listing):
            content = response.content.decode()
            assert "Lost authenticator reset" in content and superuser.username in content

    @pytest.mark.parametrize("role", ["catalogue_admin", "clinician"])
    def test_nobody_else_may_reset(self, role, request, clinician, settings):
        settings.REQUIRE_TWO_FACTOR = False
        codes = linked(clinician)
        actor = request.getfixturevalue(role)

        response = Client()
        response.force_login(actor)
        assert reset_by(response, clinician).status_code == 403
        with pytest.raises(PermissionDenied):
            authenticator_reset(user=actor, account=clinician)
        assert TOTPDevice.objects.filter(user=clinician, confirmed=True).exists()
        assert StaticToken.objects.filter(device__user=clinician).count() == len(codes)
        assert not EnrolmentCode.objects.exists()
        assert not AuditEvent.objects.filter(action="authenticator_reset").exists()

    def test_the_command_gives_the_first_superuser_a_code(self, superuser, capsys):
        call_command("issue_enrolment_code", superuser.username)

        code = re.search(r"([A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4})", capsys.readouterr().out).group(1)
        assert shown_key(signed_in(superuser).post(SETUP, {"enrolment_code": code}))
        assert AuditEvent.objects.get(action="enrolment_code_issue").actor_label == "system"
