"""Email leaves after the action that causes it is saved, from the outbox, once.

A mail server that is down never costs a patient their question; an action that rolls back
sends nothing; a failed send is tried again with a growing pause, then marked failed for
staff to see; a sent email is never sent again; each email is written in its reader's
language, with a subject that a clinic's name cannot break.
"""

import datetime
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from clinic.mail import (
    SWEEP_SCHEDULE_NAME,
    outgoing_email_send,
    outgoing_email_sweep,
    single_line,
)
from clinic.models import OutgoingEmail
from consultations.models import PlanQuestion
from consultations.plan_services import (
    plan_create,
    plan_link_check_date_of_birth,
    plan_procedure_add,
    plan_question_answer,
    plan_question_ask,
    plan_share,
)
from tests.consultations.intake_data import intake_submitted
from tests.factories import PatientFactory
from treatments.models import Treatment

BIRTH = datetime.date(1988, 9, 14)


class MailServerDown(BaseEmailBackend):
    """The mail server refuses every connection."""

    def send_messages(self, messages):
        raise smtplib.SMTPConnectError(421, "Service not available")


class MailServerBackAfterTwoFailures(BaseEmailBackend):
    """Refuses the first two connections, then delivers to the test outbox."""

    failures_left = 2

    def send_messages(self, messages):
        if MailServerBackAfterTwoFailures.failures_left:
            MailServerBackAfterTwoFailures.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def patient(clinic):
    return PatientFactory(clinic=clinic, full_name="Ines Moreau", date_of_birth=BIRTH,
                          email="ines@example.com", preferred_language="en")


@pytest.fixture
def plan(client_as, clinician, patient):
    consultation = intake_submitted(client_as(clinician), patient)
    plan = plan_create(user=clinician, consultation=consultation)
    plan_procedure_add(user=clinician, plan=plan,
                       treatment=Treatment.objects.get(code="SILICONE_GEL"))
    return plan


@pytest.fixture
def link_and_token(plan, clinician):
    """The plan's link, once the patient has confirmed their date of birth on it."""
    link, token = plan_share(user=clinician, plan=plan, link_url=lambda token: f"/p/{token}/")
    assert plan_link_check_date_of_birth(link=link, date_of_birth=BIRTH)[0] == "accepted"
    return link, token


@pytest.fixture
def patient_browser(link_and_token):
    """The patient's browser, past the date-of-birth check."""
    _link, token = link_and_token
    browser = Client()
    browser.post(f"/p/{token}/", {"date_of_birth": BIRTH.isoformat()})
    return browser, token


def make_due(email):
    OutgoingEmail.objects.filter(pk=email.pk).update(
        next_attempt_at=timezone.now() - datetime.timedelta(seconds=1))


class TestAMailServerThatIsDown:
    def test_a_question_is_stored_and_answered_normally_and_its_notice_waits(
            self, settings, patient_browser, mailoutbox, django_capture_on_commit_callbacks):
        settings.EMAIL_BACKEND = "tests.clinic.test_outgoing_email.MailServerDown"
        browser, token = patient_browser

        with django_capture_on_commit_callbacks(execute=True):
            response = browser.post(f"/p/{token}/question/", {"message": "May I swim?"})

        assert response.status_code == 302
        assert PlanQuestion.objects.get().message == "May I swim?"
        notice = OutgoingEmail.objects.get()
        assert notice.kind == OutgoingEmail.Kind.QUESTION_NOTICE
        assert notice.status == OutgoingEmail.Status.PENDING
        assert notice.attempts == 1
        assert "SMTPConnectError" in notice.last_error
        assert notice.next_attempt_at > timezone.now()
        assert mailoutbox == []
        page = browser.get(f"/p/{token}/")
        assert "May I swim?" in page.content.decode()

    def test_a_clinician_sharing_by_email_gets_the_link_all_the_same(
            self, settings, client_as, clinician, plan, django_capture_on_commit_callbacks):
        settings.EMAIL_BACKEND = "tests.clinic.test_outgoing_email.MailServerDown"

        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(clinician).post(
                reverse("consultations:plan-share", args=[plan.pk]), {"email": "on"},
                follow=True)

        assert response.status_code == 200
        assert "The link is being emailed to ines@example.com." in response.content.decode()
        assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.PENDING


class TestAfterCommit:
    def test_nothing_is_sent_inside_the_transaction_and_the_notice_leaves_after_commit(
            self, link_and_token, mailoutbox, django_capture_on_commit_callbacks):
        link, _token = link_and_token

        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            plan_question_ask(link=link, message="Is it safe in summer?")
        assert mailoutbox == []
        assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.PENDING

        for callback in callbacks:
            callback()

        [notice] = mailoutbox
        assert notice.to == ["desk@harbourside-skin-clinic.example"]
        assert "Is it safe in summer?" not in notice.body  # no health data by email
        email = OutgoingEmail.objects.get()
        assert email.status == OutgoingEmail.Status.SENT and email.sent_at
        assert notice.extra_headers["Message-ID"] == email.message_id

    def test_an_action_that_rolls_back_sends_nothing_and_keeps_no_email(
            self, link_and_token, mailoutbox, django_capture_on_commit_callbacks):
        link, _token = link_and_token

        with django_capture_on_commit_callbacks(execute=True):
            with pytest.raises(RuntimeError):
                with transaction.atomic():
                    plan_question_ask(link=link, message="Is it safe in summer?")
                    raise RuntimeError("something later in the same transaction failed")

        assert mailoutbox == []
        assert not OutgoingEmail.objects.exists()
        assert not PlanQuestion.objects.exists()

    def test_the_email_is_handed_to_the_worker_queue_on_commit(
            self, monkeypatch, link_and_token, mailoutbox, django_capture_on_commit_callbacks):
        from django_q.conf import Conf
        from django_q.models import OrmQ

        monkeypatch.setattr(Conf, "SYNC", False)  # as in production: the worker sends it
        link, _token = link_and_token

        with django_capture_on_commit_callbacks(execute=True):
            plan_question_ask(link=link, message="Is it safe in summer?")

        [queued] = OrmQ.objects.all()
        email = OutgoingEmail.objects.get()
        assert queued.func() == "clinic.mail.outgoing_email_send"
        assert queued.task["args"] == (email.pk,)
        assert mailoutbox == [] and email.status == OutgoingEmail.Status.PENDING


class TestRetries:
    def test_failures_are_retried_with_a_doubling_pause_then_sent_once(
            self, settings, link_and_token, mailoutbox):
        settings.EMAIL_BACKEND = "tests.clinic.test_outgoing_email.MailServerBackAfterTwoFailures"
        settings.EMAIL_RETRY_SECONDS = 60
        MailServerBackAfterTwoFailures.failures_left = 2
        link, _token = link_and_token
        plan_question_ask(link=link, message="Can I wear make-up?")
        email = OutgoingEmail.objects.get()

        assert outgoing_email_send(email.pk) == "retry"
        email.refresh_from_db()
        first_pause = (email.next_attempt_at - timezone.now()).total_seconds()
        assert email.attempts == 1 and 55 < first_pause <= 60
        assert outgoing_email_send(email.pk) == "skipped"  # not due yet
        assert outgoing_email_sweep() == 0

        make_due(email)
        assert outgoing_email_send(email.pk) == "retry"
        email.refresh_from_db()
        second_pause = (email.next_attempt_at - timezone.now()).total_seconds()
        assert email.attempts == 2 and 115 < second_pause <= 120

        make_due(email)
        assert outgoing_email_sweep() == 1  # the sweep hands it out; it is sent this time

        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.SENT and email.attempts == 3
        assert email.body == ""  # the plan link it may hold is not kept once sent
        assert len(mailoutbox) == 1
        assert mailoutbox[0].extra_headers["Message-ID"] == email.message_id

    def test_a_sent_email_is_never_sent_again(self, link_and_token, mailoutbox):
        link, _token = link_and_token
        plan_question_ask(link=link, message="Can I wear make-up?")
        email = OutgoingEmail.objects.get()
        assert outgoing_email_send(email.pk) == "sent"
        OutgoingEmail.objects.filter(pk=email.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(days=1))

        assert outgoing_email_send(email.pk) == "skipped"
        assert outgoing_email_sweep() == 0
        assert len(mailoutbox) == 1

    def test_after_the_last_attempt_the_email_is_marked_failed_and_shown_to_the_admin(
            self, settings, link_and_token, mailoutbox, client_as, superuser):
        settings.EMAIL_BACKEND = "tests.clinic.test_outgoing_email.MailServerDown"
        settings.EMAIL_MAX_ATTEMPTS = 3
        link, _token = link_and_token
        plan_question_ask(link=link, message="Can I wear make-up?")
        email = OutgoingEmail.objects.get()

        outcomes = []
        for _attempt in range(4):
            outcomes.append(outgoing_email_send(email.pk))
            make_due(email)

        assert outcomes == ["retry", "retry", "failed", "skipped"]
        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.FAILED and email.attempts == 3
        assert outgoing_email_sweep() == 0
        assert mailoutbox == []
        listing = client_as(superuser).get(reverse("admin:clinic_outgoingemail_changelist"))
        assert listing.status_code == 200
        page = listing.content.decode()
        assert "desk@harbourside-skin-clinic.example" in page and "SMTPConnectError" in page

    def test_a_send_left_unfinished_by_a_stopped_worker_is_taken_up_again(
            self, settings, link_and_token, mailoutbox):
        settings.EMAIL_CLAIM_SECONDS = 300
        link, _token = link_and_token
        plan_question_ask(link=link, message="Can I wear make-up?")
        email = OutgoingEmail.objects.get()
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=OutgoingEmail.Status.SENDING, attempts=1,
            claimed_at=timezone.now() - datetime.timedelta(seconds=60))

        assert outgoing_email_send(email.pk) == "skipped"  # another worker may have it
        OutgoingEmail.objects.filter(pk=email.pk).update(
            claimed_at=timezone.now() - datetime.timedelta(seconds=301))
        assert outgoing_email_sweep() == 1

        email.refresh_from_db()
        assert email.status == OutgoingEmail.Status.SENT and email.attempts == 2
        assert len(mailoutbox) == 1

    def test_the_queue_runs_the_sweep_every_minute(self, db):
        from django_q.models import Schedule

        schedule = Schedule.objects.get(name=SWEEP_SCHEDULE_NAME)
        assert schedule.func == "clinic.mail.outgoing_email_sweep"
        assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


class TestLanguageAndSubject:
    def test_a_chinese_speaking_patient_gets_the_plan_link_in_chinese(
            self, clinician, plan, patient, mailoutbox, django_capture_on_commit_callbacks):
        patient.preferred_language = "zh-hans"
        patient.save()
        plan.consultation.patient.refresh_from_db()

        with django_capture_on_commit_callbacks(execute=True):
            _link, token = plan_share(user=clinician, plan=plan, email=True,
                                      link_url=lambda token: f"https://clinic.example/p/{token}/")

        [email] = mailoutbox
        assert email.subject == "您在Harbourside Skin Clinic的治疗方案"
        assert f"https://clinic.example/p/{token}/" in email.body
        assert "Your clinic" not in email.body
        assert OutgoingEmail.objects.get().language == "zh-hans"

    def test_a_chinese_speaking_patient_gets_the_answer_notice_in_chinese(
            self, clinician, link_and_token, patient, mailoutbox,
            django_capture_on_commit_callbacks):
        link, _token = link_and_token
        patient.preferred_language = "zh-hans"
        patient.save()
        question = PlanQuestion.objects.create(plan=link.plan, message="Will it itch?")

        with django_capture_on_commit_callbacks(execute=True):
            plan_question_answer(user=clinician, question=question, answer="A little.")

        [email] = mailoutbox
        assert email.subject == "Harbourside Skin Clinic 已回答您的问题"
        assert "A little." not in email.body and "itch" not in email.body

    def test_the_clinic_is_told_in_its_own_language_whatever_the_patient_speaks(
            self, link_and_token, patient, mailoutbox, django_capture_on_commit_callbacks):
        link, _token = link_and_token
        patient.preferred_language = "zh-hans"
        patient.save()

        with django_capture_on_commit_callbacks(execute=True):
            plan_question_ask(link=link, message="会痒吗？")

        [email] = mailoutbox
        assert email.subject == f"A patient sent a question about plan #{link.plan_id}"
        assert OutgoingEmail.objects.get().language == "en-gb"

    def test_a_line_break_in_the_clinics_name_gives_a_one_line_subject(
            self, client_as, clinician, clinic, plan, mailoutbox,
            django_capture_on_commit_callbacks):
        clinic.name = "Harbourside\r\nSkin  Clinic\n"
        clinic.save()

        with django_capture_on_commit_callbacks(execute=True):
            response = client_as(clinician).post(
                reverse("consultations:plan-share", args=[plan.pk]), {"email": "on"})

        assert response.status_code == 302
        [email] = mailoutbox
        assert email.subject == "Your treatment plan from Harbourside Skin Clinic"
        assert OutgoingEmail.objects.get().status == OutgoingEmail.Status.SENT

    @pytest.mark.parametrize("name, line", [
        ("Harbourside\nSkin Clinic", "Harbourside Skin Clinic"),
        ("Harbourside\rSkin\u2028Clinic", "Harbourside Skin Clinic"),
        ("  Harbourside \t Skin Clinic ", "Harbourside Skin Clinic"),
    ])
    def test_a_header_is_put_on_one_line(self, name, line):
        assert single_line(name) == line


class TestTheAdminList:
    def test_shows_the_email_but_never_its_body_which_holds_a_live_plan_link(
            self, settings, clinician, plan, client_as, superuser,
            django_capture_on_commit_callbacks):
        settings.EMAIL_BACKEND = "tests.clinic.test_outgoing_email.MailServerDown"
        with django_capture_on_commit_callbacks(execute=True):
            _link, token = plan_share(user=clinician, plan=plan, email=True,
                                      link_url=lambda token: f"/p/{token}/")
        email = OutgoingEmail.objects.get()
        assert token in email.body  # still waiting: the body is needed to send it

        page = client_as(superuser).get(
            reverse("admin:clinic_outgoingemail_change", args=[email.pk]))

        assert page.status_code == 200
        content = page.content.decode()
        assert email.message_id.strip("<>") in content
        assert token not in content
        assert 'name="_save"' not in content  # read-only: nothing to save

    def test_is_for_superusers_not_for_catalogue_admins(self, client_as, catalogue_admin):
        response = client_as(catalogue_admin).get(
            reverse("admin:clinic_outgoingemail_changelist"))

        assert response.status_code == 403
